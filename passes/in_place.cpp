#include "passes/in_place.hpp"

#include <algorithm>
#include <array>

namespace kiln {
namespace {

enum class InPlace {
  never,
  first_operand,           // operand 0, whose type the output always has
  operands_of_output_type, // any operand with the output's exact shape and dtype
  same_elements,           // operand 0 with the output's element count and dtype
};

// One entry per op (expanded from graph/ops.def below, so a new op must say
// which it is); elementwise unary ops (KILN_POINTWISE) take first_operand.
namespace rule {

// Leaves and get_output own no kernel.
constexpr InPlace input = InPlace::never;
constexpr InPlace labels = InPlace::never;
constexpr InPlace param = InPlace::never;
constexpr InPlace constant = InPlace::never;
constexpr InPlace get_output = InPlace::never;

constexpr InPlace add = InPlace::operands_of_output_type;
constexpr InPlace sub = InPlace::operands_of_output_type;
constexpr InPlace mul = InPlace::operands_of_output_type;
constexpr InPlace div = InPlace::operands_of_output_type;
constexpr InPlace scale = InPlace::first_operand;

// Reductions, l2 and the losses change the size.
constexpr InPlace sum = InPlace::never;
constexpr InPlace mean = InPlace::never;
constexpr InPlace l2 = InPlace::never;
constexpr InPlace cross_entropy = InPlace::never;
constexpr InPlace softmax_cross_entropy = InPlace::never;
constexpr InPlace softmax_cross_entropy_with_grad = InPlace::never;

// GEMM-based ops read each input element many times while writing.
constexpr InPlace matmul = InPlace::never;
constexpr InPlace dot = InPlace::never;
constexpr InPlace affine = InPlace::never;
constexpr InPlace affine_relu = InPlace::never;

// The softmax family and its gradients read a row several times: safe only
// for one particular pass structure of the kernel, and their outputs are
// class-count wide (small) anyway.
constexpr InPlace softmax = InPlace::never;
constexpr InPlace log_softmax = InPlace::never;
constexpr InPlace softmax_grad = InPlace::never;
constexpr InPlace log_softmax_grad = InPlace::never;
constexpr InPlace cross_entropy_grad = InPlace::never;
constexpr InPlace softmax_cross_entropy_grad = InPlace::never;

constexpr InPlace reshape = InPlace::same_elements;
constexpr InPlace add_n = InPlace::first_operand;
constexpr InPlace expand = InPlace::never;
constexpr InPlace relu_grad = InPlace::operands_of_output_type;

// Optimizer updates overwrite their operand 0 by definition; that is decided
// by the parameter store, not by the planner, so none is planned in place.
constexpr InPlace sgd_update = InPlace::never;
constexpr InPlace momentum_update = InPlace::never;
constexpr InPlace ema_update = InPlace::never;
constexpr InPlace ema_square_update = InPlace::never;
constexpr InPlace step_count = InPlace::never;
constexpr InPlace adam_update = InPlace::never;
constexpr InPlace sgd_matmul_update = InPlace::never;

// A single gradient is summed over the ranks in its own buffer; a bucket's
// packed buffer has another shape, so the shape check refuses.
constexpr InPlace allreduce_start = InPlace::first_operand;
constexpr InPlace allreduce_wait = InPlace::first_operand;
constexpr InPlace allreduce_slice = InPlace::never;

}  // namespace rule

constexpr std::array<InPlace, kOpCount> kRules = {{
#define KILN_POINTWISE(name, onnx) InPlace::first_operand,
#define KILN_OP(name, arity, attrs, category, rule_, onnx) rule::name,
#include "graph/ops.def"
#undef KILN_OP
#undef KILN_POINTWISE
}};

InPlace in_place_rule(OpKind op) { return kRules[static_cast<std::size_t>(op)]; }

}  // namespace

bool op_may_overwrite_operand(OpKind op, int operand) {
  switch (in_place_rule(op)) {
    case InPlace::never: return false;
    case InPlace::operands_of_output_type: return operand >= 0;
    case InPlace::first_operand:
    case InPlace::same_elements: return operand == 0;
  }
  return false;
}

bool may_overwrite_input(const Graph& g, NodeId node, int operand) {
  if (node >= g.size() || operand < 0) return false;
  InPlace rule = in_place_rule(g[node].op);
  if (rule == InPlace::never) return false;
  if ((rule == InPlace::first_operand || rule == InPlace::same_elements) && operand != 0) return false;
  std::vector<NodeId> inputs = g.inputs(node);
  if (static_cast<std::size_t>(operand) >= inputs.size()) return false;
  // Same element count and size is what makes the buffers interchangeable.
  NodeId target = inputs[static_cast<std::size_t>(operand)];
  // add_n may accumulate into its output (out = x0; out += x1; ...): if x0
  // is also a later operand, that read would see the partial sum.
  if (g[node].op == OpKind::add_n && std::count(inputs.begin(), inputs.end(), target) > 1) return false;
  const Node& in = g[target];
  const Node& out = g[node];
  // A reshape's output is its operand's bytes under another shape.
  if (rule == InPlace::same_elements) return in.shape.numel() == out.shape.numel() && in.dtype == out.dtype;
  return in.shape == out.shape && in.dtype == out.dtype;
}

}  // namespace kiln
