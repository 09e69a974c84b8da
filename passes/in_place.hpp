#pragma once
#include "graph/graph.hpp"

namespace kiln {

// True when the kernel of `node` may write its output over the buffer of its
// operand `operand`, i.e. the memory planner may give both one buffer when
// that operand dies at `node`.
//
// This is a contract with runtime/: a kernel listed here must compute
// out[i] only from element i of each operand (read every operand at i, then
// write out[i]), so aliasing the output with the listed operand never reads an
// element that was already overwritten. Each op's rule is a row of the table
// in passes/in_place.cpp (one per op in graph/ops.def, so a new op must
// choose): never, operand 0, any operand of the output's exact type (the
// binary elementwise ops, relu_grad: a broadcast operand is read many times,
// so never that one), or operand 0 with the same element count (reshape: a
// copy, or nothing at all when the buffers are one). Elementwise unary ops
// (KILN_POINTWISE) take operand 0. add_n takes operand 0 only when it is not
// also another operand, since the kernel may accumulate into the output.
bool may_overwrite_input(const Graph& g, NodeId node, int operand);

// The op's half of that rule, before shapes: whether its kernel may write its
// output over operand `operand` at all. The runtime asks this of an ordinary
// op that a graph tags as overwriting a persistent value.
bool op_may_overwrite_operand(OpKind op, int operand);

}  // namespace kiln
