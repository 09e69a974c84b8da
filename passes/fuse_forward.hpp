#pragma once
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "passes/rewrite.hpp"

namespace kiln {

// Forward fusion, run before autodiff so that the gradient rules of the fused
// ops (one node each) replace the chains of the unfused ones. Rules, applied
// in this order, each over the result of the one before (preconditions are
// written next to each rule in fuse_forward.cpp):
//
//   "affine"                 add(matmul(x, W), b)             -> affine(x, W, b)
//   "affine_relu"            relu(affine(x, W, b))            -> affine_relu(x, W, b)
//   "softmax_cross_entropy"  cross_entropy(softmax(z), t)     -> softmax_cross_entropy(z, t)
//   "log_softmax_nll"        neg(mean(sum(mul(t, log_softmax(z)), axis=1)))
//                            scale(sum(mul(t, log_softmax(z))), -1/N)
//                                                             -> softmax_cross_entropy(z, t)
//
// Common to all rules: the fused node takes the name and role of the node at
// the root of the pattern (the add, the relu, the cross_entropy, ...), whose
// value it reproduces; every other node of the pattern is absorbed, so it
// must have exactly one consumer (inside the pattern), must not be the loss,
// a gradient, an update or a kept node, and must have the root's dtype.
// `stats.fired` counts each rule that fired; nodes_before/after are set.
Graph fuse_forward(const Graph& g, PassStats& stats, const PassOptions& options = {});

}  // namespace kiln
