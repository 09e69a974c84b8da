#pragma once
#include <optional>

#include "graph/graph.hpp"
#include "graph/shape_rules.hpp"
#include "passes/rewrite.hpp"

// Small predicates shared by the pattern-matching passes (fusion, simplify).
namespace kiln::pattern {

// True when `v` can disappear into a pattern rooted at its only consumer: it
// has exactly one consumer, which reads it once, and no one outside the
// graph reads it.
inline bool absorbable(const Graph& g, const Observers& obs, NodeId v) {
  return g.consumers(v).size() == 1 && !obs.any(v);
}

// The axis a softmax-family node works on, normalised; nullopt when invalid.
inline int softmax_axis(const Node& n) {
  int rank = static_cast<int>(n.shape.rank());
  if (!n.attrs.axis) return rank - 1;
  int a = *n.attrs.axis;
  return a < 0 ? a + rank : a;
}

// The axis a reduction removes, normalised against its input's rank;
// nullopt when it reduces over everything.
inline std::optional<int> reduced_axis(const Node& reduction, const Node& input) {
  if (!reduction.attrs.axis) return std::nullopt;
  int a = *reduction.attrs.axis;
  return a < 0 ? a + static_cast<int>(input.shape.rank()) : a;
}

// The operand of `v` other than `one` (v binary); nullopt when neither or
// both operands are `one`.
inline std::optional<NodeId> other_operand(const Graph& g, NodeId v, NodeId one) {
  auto in = g.inputs(v);
  if (in.size() != 2 || in[0] == in[1]) return std::nullopt;
  if (in[0] == one) return in[1];
  if (in[1] == one) return in[0];
  return std::nullopt;
}

}  // namespace kiln::pattern
