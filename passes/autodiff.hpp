#pragma once
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace kiln {

struct AutodiffOptions {
  // Names of the nodes to differentiate with respect to (params or inputs).
  // Empty: every `param`.
  std::vector<std::string> wrt;
};

// The autodiff pass: returns `forward` extended with its backward graph,
// derived symbolically by the chain rule from each op's gradient rule
// (passes/gradient_rules.cpp). The gradient of each differentiated node X is
// recorded with Graph::set_gradient and is named "grad/X" unless it is simply
// another gradient passed through unchanged. Several contributions to one
// node are summed by a single add_n named "grad/<node>". Only nodes on a path
// from a differentiated node to the loss get gradient code.
//
// Throws kiln::Error when the graph has no scalar loss, a requested node does
// not exist or does not reach the loss, or an op on a needed path has no
// gradient rule (naming the op and the node: never a silent zero).
Graph autodiff(const Graph& forward, const AutodiffOptions& options = {});

}  // namespace kiln
