#pragma once
#include <optional>
#include <vector>

#include "graph/node.hpp"

namespace kiln {

// The largest result constant folding writes into a graph: bigger constants
// would bloat graph files and the parameter store for little gain.
inline constexpr std::int64_t kMaxFoldedElements = 4096;

// Whether evaluate_constant knows `op`. The set is deliberately small — the
// elementwise ops, scale, the reductions, expand, add_n, dot and l2 —
// because passes may not depend on the runtime's kernels; ops that need a
// real kernel (matmul, the softmax family, the losses and their gradients)
// are never folded.
bool can_fold(OpKind op);

// The value of `node` (its op, attributes, shape and dtype) computed from
// constant `operands` (constant nodes, in operand order), row-major. Computes
// in double and rounds operands and result to the node's dtype, so an f32
// result is what an f32 kernel computes up to rounding. nullopt when
// !can_fold(node.op). Operand shapes must already satisfy the op's shape
// rule (they do in a verified graph).
std::optional<std::vector<double>> evaluate_constant(const Node& node, const std::vector<const Node*>& operands);

}  // namespace kiln
