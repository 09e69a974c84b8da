#include "passes/in_place.hpp"

#include <algorithm>

namespace kiln {
namespace {

enum class InPlace {
  never,
  first_operand,           // operand 0, whose type the output always has
  operands_of_output_type, // any operand with the output's exact shape and dtype
};

// One row per op that may run in place; every other op is `never`.
InPlace in_place_rule(OpKind op) {
  switch (op) {
    case OpKind::neg:
    case OpKind::scale:
    case OpKind::relu:
    case OpKind::sigmoid:
    case OpKind::tanh:
    case OpKind::exp:
    case OpKind::log:
    case OpKind::square:
      return InPlace::first_operand;
    case OpKind::add:
    case OpKind::sub:
    case OpKind::mul:
    case OpKind::div:
    case OpKind::relu_grad:
      return InPlace::operands_of_output_type;
    case OpKind::add_n:
      return InPlace::first_operand;
    // A single gradient is summed over the ranks in its own buffer; a
    // bucket's packed buffer has another shape, so the shape check refuses.
    case OpKind::allreduce_start:
    case OpKind::allreduce_wait:
      return InPlace::first_operand;
    default:
      return InPlace::never;
  }
}

}  // namespace

bool may_overwrite_input(const Graph& g, NodeId node, int operand) {
  if (node >= g.size() || operand < 0) return false;
  InPlace rule = in_place_rule(g[node].op);
  if (rule == InPlace::never) return false;
  if (rule == InPlace::first_operand && operand != 0) return false;
  std::vector<NodeId> inputs = g.inputs(node);
  if (static_cast<std::size_t>(operand) >= inputs.size()) return false;
  // Same element count and size is what makes the buffers interchangeable.
  NodeId target = inputs[static_cast<std::size_t>(operand)];
  // add_n may accumulate into its output (out = x0; out += x1; ...): if x0
  // is also a later operand, that read would see the partial sum.
  if (g[node].op == OpKind::add_n && std::count(inputs.begin(), inputs.end(), target) > 1) return false;
  const Node& in = g[target];
  const Node& out = g[node];
  return in.shape == out.shape && in.dtype == out.dtype;
}

}  // namespace kiln
