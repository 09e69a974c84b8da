#pragma once
#include <string_view>
#include <vector>

#include "graph/graph.hpp"

namespace kiln {

// What a gradient rule sees while autodiff visits one forward node: the node,
// its operands, the incoming gradient `dy` (shaped like the node), and ways to
// add backward nodes and hand each operand its contribution.
class GradContext {
 public:
  virtual ~GradContext() = default;

  virtual NodeId node() const = 0;
  virtual NodeId dy() const = 0;
  virtual NodeId input(int k) const = 0;
  virtual const Graph& graph() const = 0;
  // True when operand k lies on a path from a differentiated node.
  virtual bool needs(int k) const = 0;

  // An intermediate backward node.
  virtual NodeId make(OpKind op, const std::vector<NodeId>& inputs, Attrs attrs = {}) = 0;
  // expand x to `shape` along `axis` (all axes when absent); with
  // for_operand = k it is operand k's whole contribution, as make_for.
  virtual NodeId make_expand(NodeId x, const Shape& shape, std::optional<int> axis, int for_operand = -1) = 0;
  // A backward node that is operand k's whole contribution from this node.
  virtual NodeId make_for(int k, OpKind op, const std::vector<NodeId>& inputs, Attrs attrs = {}) = 0;
  // Hands operand k an existing node as its contribution (a pass-through).
  virtual void contribute(int k, NodeId grad) = 0;

  const Node& self() const { return graph()[node()]; }
  const Node& in(int k) const { return graph()[input(k)]; }
};

// A vector-Jacobian product written with graph ops. Every op has one rule
// in passes/gradient_rules.cpp (the table there is generated from
// graph/ops.def, so a missing entry does not compile); ops that cannot be
// differentiated have no_gradient.
using GradRule = void (*)(GradContext&);

// nullptr when the op has no gradient rule.
GradRule gradient_rule(OpKind op);
inline bool has_gradient_rule(OpKind op) { return gradient_rule(op) != nullptr; }

}  // namespace kiln
