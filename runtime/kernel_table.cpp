#include <array>
#include <climits>

#include "graph/error.hpp"
#include "runtime/gemm/choice.hpp"
#include "runtime/gemm/plan_gemms.hpp"
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

KernelCall make_call(const TensorRef& out, const Attrs& attrs) {
  KernelCall c;
  c.out = out.data;
  c.out_shape = out.shape;
  c.dtype = out.dtype;
  c.attrs = &attrs;
  return c;
}

void set_input(KernelCall& c, int k, const TensorRef& t) {
  c.in[k] = t.data;
  c.in_shape[k] = t.shape;
  c.in_dtype[k] = t.dtype;
}

// The GEMM a matmul / affine / affine_relu / sgd_matmul_update call makes,
// prepared now on the backend chosen for its shape, so the kernel only runs it.
void prepare_gemm(OpKind op, KernelCall& c) {
  const int first = gemm::first_gemm_operand(op);
  if (!c.in_shape[first] || !c.in_shape[first + 1]) return;
  std::optional<gemm::Desc> d = gemm::node_gemm_desc(op, c.dtype, *c.in_shape[first], *c.in_shape[first + 1], *c.attrs);
  if (!d) return;
  std::shared_ptr<const gemm::Prepared> prepared = gemm::prepare_chosen(*d);
  c.gemm = prepared.get();
  c.gemm_owner = std::move(prepared);
}

}  // namespace

static_assert(shape_rules::kMaxAllreduceOperands <= static_cast<std::size_t>(kMaxKernelInputs),
              "an allreduce_start's operands must fit one kernel call");

Kernel kernel_for(OpKind op) { return kKernels[static_cast<std::size_t>(op)]; }

void bind_kernel(OpKind op, std::span<const TensorRef> inputs, const TensorRef& out, const Attrs& attrs,
                 std::vector<BoundKernel>& calls, std::span<const TensorRef> extra_outputs) {
  const OpInfo& info = op_info(op);
  const std::size_t n = inputs.size();
  if (info.arity == kVariadic ? n == 0 : n != static_cast<std::size_t>(info.arity))
    throw Error(std::string(info.name) + ": expects " +
                (info.arity == kVariadic ? std::string("at least 1") : std::to_string(info.arity)) +
                " operands, found " + std::to_string(n));
  if (info.category == Category::linalg || info.category == Category::fused || op == OpKind::sgd_matmul_update)
    check_blas_dimensions(op, inputs);

  const Kernel kernel = kernel_for(op);
  if (extra_outputs.size() > static_cast<std::size_t>(kMaxExtraOutputs) ||
      (!extra_outputs.empty() && n > static_cast<std::size_t>(kMaxKernelInputs)))
    throw Error(std::string(info.name) + ": a kernel call takes at most " + std::to_string(kMaxExtraOutputs) +
                " extra outputs, found " + std::to_string(extra_outputs.size()));
  if (n <= static_cast<std::size_t>(kMaxKernelInputs)) {
    KernelCall c = make_call(out, attrs);
    for (std::size_t k = 0; k < extra_outputs.size(); ++k) c.extra_out[k] = extra_outputs[k].data;
    for (std::size_t k = 0; k < n; ++k) set_input(c, static_cast<int>(k), inputs[k]);
    c.n_in = static_cast<int>(n);
    prepare_gemm(op, c);
    calls.push_back({kernel, std::move(c)});
    return;
  }
  // Only add_n gets here: the first call sums kMaxKernelInputs operands into
  // the output, each later call adds up to kMaxKernelInputs - 1 more to it.
  std::size_t next = 0;
  while (next < n) {
    KernelCall c = make_call(out, attrs);
    int k = 0;
    if (next > 0) set_input(c, k++, out);
    while (k < kMaxKernelInputs && next < n) set_input(c, k++, inputs[next++]);
    c.n_in = k;
    calls.push_back({kernel, c});
  }
}

}  // namespace kiln
