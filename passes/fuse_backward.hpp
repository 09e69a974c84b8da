#pragma once
#include "graph/graph.hpp"
#include "passes/rewrite.hpp"

namespace kiln {

// Backward fusion, run after autodiff on the whole training graph. Rules
// (preconditions next to each in fuse_backward.cpp):
//
//   "add_n_flatten"      add_n(a, add_n(b, c)) -> add_n(a, b, c): one sum of
//                        every gradient contribution instead of a chain, and
//                        no buffer for the partial sum.
//   "expand_broadcast"   mul/add/sub/div(x, expand(s)) -> mul/add/sub/div(x, s)
//                        when s broadcasts against x as it is (a scalar, or
//                        the trailing part expanded along axis 0): the
//                        expanded copy (as big as x) is never built. The
//                        gradients of mean and sum emit these expands.
//   "softmax_cross_entropy_with_grad"
//                        softmax_cross_entropy(z, t) and its gradient
//                        softmax_cross_entropy_grad(z, t, 1) -> one node
//                        with two outputs, the loss and (softmax(z) − t)/rows,
//                        the gradient read through get_output: the logits
//                        are exponentiated once per step instead of twice.
//
// What needs no rule, and is checked by the tests instead:
//   - the bias gradient of an affine (or of an add broadcasting a vector over
//     the rows of a matrix) is already one column sum, sum(dy, axis=0), that
//     reads dy directly;
//   - the three products in an affine's gradient (dx = dy·Wᵀ, dW = xᵀ·dy)
//     and in a matmul's are single matmuls with transpose flags: the op set
//     has no transpose op, so a transposed copy cannot be materialised.
//
// Not done here because it needs an op the table does not have: folding
// relu_grad(matmul(dy, W, tb), y) into one matmul_relu_grad(dy, W, y) that
// masks the product as it writes it.
Graph fuse_backward(const Graph& g, PassStats& stats, const PassOptions& options = {});

}  // namespace kiln
