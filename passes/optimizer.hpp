#pragma once
#include <string>
#include <string_view>

#include "graph/graph.hpp"

namespace kiln {

struct OptimizerOptions {
  enum class Kind { sgd, momentum, adam };
  Kind kind = Kind::sgd;
  double lr = 0.01;
  double momentum = 0.9;  // momentum: v = momentum·v + g; p -= lr·v (PyTorch's convention)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam
  // Adds weight_decay·p to every gradient: the gradient of the penalty
  // 0.5·weight_decay·‖p‖².
  double weight_decay = 0.0;
};

std::string_view optimizer_name(OptimizerOptions::Kind kind);
// "sgd", "momentum" or "adam"; throws kiln::Error listing them otherwise.
OptimizerOptions::Kind parse_optimizer(std::string_view name);

// The optimizer-update pass: appends, after autodiff, the nodes that apply
// one optimizer step to every param that has a gradient (Graph::gradients()),
// so one plan runs a whole training step. Optimizer state is made of params
// named "opt/<param>/<what>" (zero-initialised, Role::update), so it lives in
// the parameter store and is saved with the checkpoint; the node that writes
// the new value of param P is named "update/P". Throws kiln::Error when the
// graph has no gradients or an option is out of range.
Graph append_optimizer(const Graph& g, const OptimizerOptions& options);

}  // namespace kiln
