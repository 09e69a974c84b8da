#include "runtime/kernel_scratch.hpp"

#include <array>

#include "passes/liveness.hpp"
#include "runtime/kernels/scratch.hpp"

namespace kiln {
namespace {

using ScratchRule = std::size_t (*)(std::span<const TensorRef> inputs, const TensorRef& out, const Attrs& attrs);

// The scratch rule of one op: none, unless specialised below for an op whose
// kernel uses KernelCall::scratch. The table is expanded from graph/ops.def,
// so every op has exactly one rule, and an op's kernel cannot be handed
// scratch its rule did not declare.
template <OpKind op>
std::size_t scratch_rule(std::span<const TensorRef>, const TensorRef&, const Attrs&) {
  return 0;
}

template <>
std::size_t scratch_rule<OpKind::softmax_cross_entropy>(std::span<const TensorRef> inputs, const TensorRef&,
                                                        const Attrs&) {
  return kernels::softmax_cross_entropy_scratch_bytes(*inputs[0].shape, inputs[0].dtype);
}

// Its kernel falls back on softmax_cross_entropy's when no one reads the
// gradient, which the op's types do not tell.
template <>
std::size_t scratch_rule<OpKind::softmax_cross_entropy_with_grad>(std::span<const TensorRef> inputs,
                                                                  const TensorRef& out, const Attrs& attrs) {
  return scratch_rule<OpKind::softmax_cross_entropy>(inputs, out, attrs);
}

constexpr std::array<ScratchRule, kOpCount> kScratchRules = {{
#define KILN_OP(name, arity, attrs, category, rule, onnx) &scratch_rule<OpKind::name>,
#include "graph/ops.def"
#undef KILN_OP
}};

}  // namespace

std::size_t kernel_scratch_bytes(OpKind op, std::span<const TensorRef> inputs, const TensorRef& out,
                                 const Attrs& attrs) {
  const std::size_t bytes = kScratchRules[static_cast<std::size_t>(op)](inputs, out, attrs);
  return bytes == 0 ? 0 : align_up(bytes);
}

std::size_t node_scratch_bytes(const Graph& g, NodeId id) {
  const Node& node = g[id];
  if (node.info().is_leaf() || node.op == OpKind::get_output) return 0;
  // The fused loss with its gradient needs the loss kernel's scratch only
  // when no one reads the gradient (its kernel then runs that one instead).
  if (node.op == OpKind::softmax_cross_entropy_with_grad && g.projection(id, 1)) return 0;
  std::vector<TensorRef> inputs;
  for (NodeId in : g.inputs(id)) inputs.push_back({nullptr, &g[in].shape, g[in].dtype});
  return kernel_scratch_bytes(node.op, inputs, {nullptr, &node.shape, node.dtype}, node.attrs);
}

}  // namespace kiln
