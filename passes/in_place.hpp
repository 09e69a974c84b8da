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
// element that was already overwritten. The allowed cases:
//
//   neg scale relu sigmoid tanh exp log square   operand 0
//   add sub mul div                              an operand whose shape and dtype
//                                                equal the output's (a broadcast
//                                                operand is read many times: never)
//   relu_grad (dy, y)                            operand 0 or 1
//   reshape                                      operand 0 (same element count and
//                                                dtype; the kernel is a copy, and
//                                                nothing at all when the buffers
//                                                are one: reshaping is then free)
//   add_n                                        operand 0 only, and only when
//                                                it is not also another operand:
//                                                the kernel may accumulate into
//                                                the output (out = x0; out += xk)
//
// Everything else is never in place: GEMM-based ops (matmul, affine,
// affine_relu, dot) read each input element many times while writing;
// reductions, expand, l2 and the losses change the size; the softmax family
// and its gradients (softmax_grad, log_softmax_grad, cross_entropy_grad,
// softmax_cross_entropy_grad) read a row several times, so aliasing is safe
// only for one particular pass structure of the kernel, and their outputs
// are class-count wide (small) anyway. softmax_cross_entropy_with_grad's
// gradient lives in its get_output node's buffer, which is live from the
// fused node's step and so never shares the logits' bytes (the unfused
// softmax_cross_entropy_grad may overwrite its logits: one buffer fewer, a
// class-count-wide one). Leaves and get_output own no kernel. An op that is not
// listed (including any op added later) is not in place: the safe default.
bool may_overwrite_input(const Graph& g, NodeId node, int operand);

}  // namespace kiln
