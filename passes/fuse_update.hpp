#pragma once
#include "graph/graph.hpp"
#include "passes/rewrite.hpp"

namespace kiln {

// Update fusion, run after the optimizer update is appended (passes/
// pipeline.cpp, only with CompileOptions::fuse and not
// keep_weight_gradients). One rule:
//
//   "sgd_matmul_update"  sgd_update(P, matmul(A, B)) -> sgd_matmul_update(P, A, B)
//                        with the matmul's transposes, lr and weight decay:
//                        the weight gradient's GEMM accumulates straight into
//                        the param (P = (1 − lr·wd)·P − lr·op(A)·op(B)), so
//                        the gradient buffer and the update's sweep over P
//                        disappear. Also sgd_update(P, add_n(matmul(A, B),
//                        scale(P, λ))), the gradient of a loss with a
//                        0.5·λ·‖P‖² term (spiral-net's weight decay): λ is
//                        added to the update's weight decay.
//
// Preconditions: P is a param (not optimizer state, not another update's
// output); the gradient (the matmul, or the sum) is read by that update
// alone, and a sum's two terms by the sum alone; neither A nor B is P (the
// GEMM writes P while reading them); none of these nodes is the loss or kept
// (`options.keep`: a gradient the caller asked to read survives). A gradient
// in Graph::gradients() is folded all the same, and its pair leaves
// Graph::gradients(): it is never materialised, so no one can read it.
// Momentum and Adam updates read their gradient from several nodes and never
// match.
//
// The fused node keeps the update's name ("update/P") and role, and, being a
// Category::update op that overwrites operand 0, is ordered by the scheduler
// after every other reader of P (e.g. the input gradient dY·Pᵀ, which needs
// the old P) and after the loss, as sgd_update was.
Graph fuse_update(const Graph& g, PassStats& stats, const PassOptions& options = {});

}  // namespace kiln
