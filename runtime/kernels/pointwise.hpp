#pragma once
// The kernel of every elementwise unary op: one loop over the elements
// around a scalar function. Ops declared with KILN_POINTWISE (graph/ops.def)
// get kernels::pointwise<graph/pointwise.hpp's function> from the kernel
// table; scale reuses the loop with its factor. No restrict qualifiers: the
// output may be exactly the operand's buffer (in-place reuse by the memory
// planner), and the compiler vectorises the loop with a runtime overlap check
// instead.
#include "runtime/kernels/common.hpp"

namespace kiln::kernels {

template <class F>
void pointwise_loop(const KernelCall& c, F f) {
  detail::for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = detail::input<T>(c, 0);
    T* y = detail::output<T>(c);
    const std::size_t n = detail::numel(c.out_shape);
    for (std::size_t i = 0; i < n; ++i) y[i] = f(x[i]);
  });
}

template <class F>
void pointwise(const KernelCall& c) {
  pointwise_loop(c, F{});
}

}  // namespace kiln::kernels
