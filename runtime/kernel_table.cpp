#include <array>
#include <climits>
#include <new>

#include "graph/error.hpp"
#include "runtime/gemm/choice.hpp"
#include "runtime/gemm/plan_gemms.hpp"
#include "passes/liveness.hpp"
#include "runtime/kernel_scratch.hpp"
#include "runtime/kernels.hpp"
#include "runtime/kernels/kernel_list.hpp"
#include "runtime/kernels/pointwise.hpp"
#include "graph/pointwise.hpp"
#include "graph/shape_rules.hpp"

namespace kiln {
namespace {

constexpr std::array<Kernel, kOpCount> kKernels = {{
#define KILN_POINTWISE(name, onnx) &kernels::pointwise<pointwise::name>,
#define KILN_OP(name, arity, attrs, category, rule, onnx) &kernels::name,
#include "graph/ops.def"
#undef KILN_OP
#undef KILN_POINTWISE
}};

// CBLAS takes dimensions as int; a larger one must fail at bind time, never
// wrap around inside a kernel.
void check_blas_dimensions(OpKind op, std::span<const TensorRef> inputs) {
  for (const TensorRef& t : inputs)
    for (std::int64_t d : t.shape->dims())
      if (d > INT_MAX)
        throw Error(std::string(op_name(op)) + ": dimension " + std::to_string(d) + " of operand shape " +
                    t.shape->str() + " exceeds the BLAS limit of " + std::to_string(INT_MAX));
}

// Scratch for a call bound outside a plan: 64-byte aligned like the arena,
// so a kernel sees the same alignment whoever bound it.
std::shared_ptr<std::byte[]> allocate_scratch(std::size_t bytes) {
  constexpr std::align_val_t alignment{kArenaAlignment};
  return std::shared_ptr<std::byte[]>(new (alignment) std::byte[bytes],
                                      [](std::byte* p) { ::operator delete[](p, alignment); });
}

// The GEMM a matmul / affine / affine_relu / sgd_matmul_update call makes,
// prepared now on the backend chosen for its shape, so the kernel only runs it.
void prepare_gemm(OpKind op, KernelCall& c) {
  const int first = gemm::first_gemm_operand(op);
  if (c.in.size() < static_cast<std::size_t>(first) + 2) return;
  std::optional<gemm::Desc> d = gemm::node_gemm_desc(op, c.dtype, *c.in[first].shape, *c.in[first + 1].shape, *c.attrs);
  if (!d) return;
  std::shared_ptr<const gemm::Prepared> prepared = gemm::prepare_chosen(*d);
  c.gemm = prepared.get();
  c.gemm_owner = std::move(prepared);
}

}  // namespace

Kernel kernel_for(OpKind op) { return kKernels[static_cast<std::size_t>(op)]; }

void bind_kernel(OpKind op, std::span<const TensorRef> inputs, const TensorRef& out, const Attrs& attrs,
                 std::vector<BoundKernel>& calls, std::span<const TensorRef> extra_outputs,
                 std::span<std::byte> scratch) {
  const OpInfo& info = op_info(op);
  const std::size_t n = inputs.size();
  if (info.arity == kVariadic ? n == 0 : n != static_cast<std::size_t>(info.arity))
    throw Error(std::string(info.name) + ": expects " +
                (info.arity == kVariadic ? std::string("at least 1") : std::to_string(info.arity)) +
                " operands, found " + std::to_string(n));
  if (info.category == Category::linalg || info.category == Category::fused || op == OpKind::sgd_matmul_update)
    check_blas_dimensions(op, inputs);

  KernelCall c;
  c.in.reserve(n);
  for (const TensorRef& t : inputs) c.in.push_back({t.data, t.shape, t.dtype});
  c.out = out.data;
  c.out_shape = out.shape;
  c.dtype = out.dtype;
  // Every output the op has gets an entry, so a kernel may look at each; one
  // the caller left out is not computed, as one with nullptr data.
  std::vector<TensorType> operand_types;
  for (const TensorRef& t : inputs) operand_types.push_back({*t.shape, t.dtype});
  const std::vector<TensorType> extra_types = shape_rules::extra_outputs(op, operand_types, attrs);
  if (extra_outputs.size() > extra_types.size())
    throw Error(std::string(info.name) + ": has " + std::to_string(extra_types.size()) +
                " outputs besides the first, found " + std::to_string(extra_outputs.size()));
  c.extra_out.resize(extra_types.size());
  for (std::size_t k = 0; k < extra_outputs.size(); ++k)
    c.extra_out[k] = {extra_outputs[k].data, extra_outputs[k].shape, extra_outputs[k].dtype};
  c.attrs = &attrs;
  const std::size_t scratch_bytes = kernel_scratch_bytes(op, inputs, out, attrs);
  if (scratch_bytes > 0) {
    if (scratch.data() == nullptr) {
      c.scratch_owner = allocate_scratch(scratch_bytes);
      scratch = {c.scratch_owner.get(), scratch_bytes};
    } else if (scratch.size() < scratch_bytes) {
      throw Error(std::string(info.name) + ": the kernel needs " + std::to_string(scratch_bytes) +
                  " bytes of scratch, the call was given " + std::to_string(scratch.size()));
    }
    c.scratch = scratch.data();
    c.scratch_bytes = scratch.size();
  }
  prepare_gemm(op, c);
  calls.push_back({kernel_for(op), std::move(c)});
}

}  // namespace kiln
