#pragma once
#include "graph/graph.hpp"
#include "passes/rewrite.hpp"

namespace kiln {

// The simplify pass: algebra, constant folding, common-subexpression
// elimination and dead-code elimination, repeated in that order until a
// round changes nothing. Each step is also a pass on its own, below.
//
// What disappears and what takes its place: a removed node's readers read
// the survivor; if the removed node was the loss or a gradient, the
// survivor takes over that role under its own name (Graph::loss() and
// Graph::gradients() are the source of truth, not names). A node that
// changes form (x·c -> scale(x, c), folding to a constant) keeps its name.
// Nodes pinned by name (PassOptions::keep, the differentiated side of each
// gradient pair, Role::update nodes) are never removed, and Role::update
// nodes are never rewritten.
Graph simplify(const Graph& g, PassStats& stats, const PassOptions& options = {});

// Trivial algebra, each rule counted under its name in stats.fired:
//   "scale_by_one"            scale(x, 1)                  -> x
//   "scale_of_scale"          scale(scale(x, a), b)        -> scale(x, a·b)
//   "neg_neg"                 neg(neg(x))                  -> x
//   "add_n_of_one"            add_n(x)                     -> x
//   "mul_by_one"              x·1, 1·x (constant of ones)  -> x
//   "mul_by_scalar_constant"  x·c, c·x (constant scalar)   -> scale(x, c)
//   "add_zero"                x + 0, 0 + x                 -> x
//   "sub_zero"                x − 0                        -> x
//   "div_by_one"              x / 1                        -> x
// where "-> x" applies only when x has the result's shape (a broadcast
// operand does not). A double transpose cannot occur: transposes exist only
// as matmul flags, never as nodes, so there is nothing to cancel.
Graph simplify_algebra(const Graph& g, PassStats& stats, const PassOptions& options = {});

// "fold": a node whose operands are all constants becomes a constant, for
// the ops passes/constant_eval.hpp can evaluate without the runtime and
// results of at most kMaxFoldedElements finite values.
Graph fold_constants(const Graph& g, PassStats& stats, const PassOptions& options = {});

// "cse": nodes with the same op, attributes, shape, dtype and operands
// become one (the earliest). add and mul with operands of equal shape match
// in either order (exact in IEEE arithmetic). Constants match by value,
// shape and dtype; inputs, labels and params never merge (they are distinct
// storage), nor do Role::update nodes.
Graph eliminate_common_subexpressions(const Graph& g, PassStats& stats, const PassOptions& options = {});

// "dce": removes nodes that nothing needed reads. Needed: the loss, both
// sides of every gradient pair, Role::update nodes, kept nodes, and the
// graph's interface — every input, labels and param, so feeds by name keep
// working. A graph with no loss, gradient, update or kept node (forward
// only, outputs not named) needs every node that has no consumer: those
// are its outputs.
Graph eliminate_dead_code(const Graph& g, PassStats& stats, const PassOptions& options = {});

}  // namespace kiln
