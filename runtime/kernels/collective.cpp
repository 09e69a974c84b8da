// The data-parallel reduction (graph/ops.def, Category::collective). The
// plan gives allreduce_start and allreduce_wait one CollectiveSlot: its
// communicator, and the request the start leaves for the wait. Without one
// (a graph run by the reference Executor, which has no ranks) they act as a
// world of one rank: the sum over one rank is the value itself.
#include <cstring>

#include "runtime/comm/communicator.hpp"
#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"

namespace kiln::kernels {

using detail::for_float;
using detail::input;
using detail::numel;
using detail::output;

void allreduce_start(const KernelCall& c) {
  auto* packed = static_cast<std::byte*>(c.out);
  std::size_t offset = 0;
  for (const KernelOperand& gradient : c.in) {
    const std::size_t bytes = numel(gradient.shape) * dtype_size(gradient.dtype);
    if (gradient.data != packed + offset) std::memcpy(packed + offset, gradient.data, bytes);
    offset += bytes;
  }
  if (c.collective && c.collective->comm)
    c.collective->request = c.collective->comm->start_allreduce_sum(c.out, numel(c.out_shape), c.dtype);
}

void allreduce_wait(const KernelCall& c) {
  if (c.collective && c.collective->comm) c.collective->comm->wait(c.collective->request);
  for_float(c.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* sum = input<T>(c, 0);
    T* out = output<T>(c);
    const T factor = static_cast<T>(c.attrs->factor);
    const std::size_t n = numel(c.out_shape);
    for (std::size_t i = 0; i < n; ++i) out[i] = sum[i] * factor;
  });
}

void allreduce_slice(const KernelCall& c) {
  const std::size_t size = dtype_size(c.dtype);
  std::memcpy(c.out, static_cast<const std::byte*>(c.in[0].data) + static_cast<std::size_t>(c.attrs->offset) * size,
              numel(c.out_shape) * size);
}

}  // namespace kiln::kernels
