#pragma once
#include "graph/graph.hpp"
#include "passes/rewrite.hpp"

namespace kiln {

// Update fusion, run after the optimizer update is appended (runtime/
// compile.cpp, only with CompileOptions::fuse). One rule:
//
//   "sgd_matmul_update"  sgd_update(P, matmul(A, B)) -> sgd_matmul_update(P, A, B)
//                        with the matmul's transposes, lr and weight decay:
//                        the weight gradient's GEMM accumulates straight into
//                        the param (P = (1 − lr·wd)·P − lr·op(A)·op(B)), so
//                        the gradient buffer and the update's sweep over P
//                        disappear.
//
// Preconditions: P is a param (not optimizer state, not another update's
// output); the matmul's only consumer is that update, which reads it once;
// neither A nor B is P (the GEMM writes P while reading them); the matmul is
// not the loss and not kept (`options.keep`: a gradient the caller asked to
// read survives). A matmul that is P's gradient in Graph::gradients() is
// folded all the same, and that pair leaves Graph::gradients(): the gradient
// is never materialised, so no one can read it. Momentum and Adam updates
// read their gradient from several nodes and never match.
//
// The fused node keeps the update's name ("update/P") and role, and, being a
// Category::update op that overwrites operand 0, is ordered by the scheduler
// after every other reader of P (e.g. the input gradient dY·Pᵀ, which needs
// the old P) and after the loss, as sgd_update was.
Graph fuse_update(const Graph& g, PassStats& stats, const PassOptions& options = {});

}  // namespace kiln
