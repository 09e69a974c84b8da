#pragma once
// Seeded random graphs for tests of passes that must hold on any graph
// (schedule, memory plan, later fusion and simplification).
#include <cstdint>

#include "graph/graph.hpp"

namespace kiln::testing {

struct RandomGraphOptions {
  std::uint64_t seed = 1;
  // Op nodes drawn before the loss is assembled.
  int ops = 30;
  // Extend the graph with its backward graph (autodiff, every param that
  // reaches the loss).
  bool backward = false;
  // After autodiff, append an SGD update per gradient (append_sgd_updates).
  bool update = false;
};

// A random DAG of elementwise, matmul, reduction, softmax and l2 ops over
// inputs and params with consistent shapes, ending in a scalar loss: the sum
// of (most of) the dangling values reduced to scalars, plus sometimes a
// softmax_cross_entropy against labels. About one dangling value in eight is
// left out of the loss, so the graph has nodes the loss does not need. The
// same options always give the same graph.
Graph random_graph(const RandomGraphOptions& options);

// Appends, for each param gradient of `g`, the SGD update the optimizer pass
// will emit: scale(grad, lr) as update scratch "update/<param>/step",
// then sub(param, step) "update/<param>", which overwrites the param.
void append_sgd_updates(Graph& g, double learning_rate = 0.01);

}  // namespace kiln::testing
