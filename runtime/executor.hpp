#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/graph.hpp"
#include "runtime/params.hpp"
#include "runtime/tensor.hpp"

namespace kiln {

// The reference executor: runs every node of a graph in topological order,
// each into its own buffer, with the plain kernels. It is kept only as the
// test oracle: every command (train, grad, ...) runs through the compiled
// Plan (runtime/plan.hpp), and every optimised plan is tested against this.
// It favours being obviously right over being fast.
//
//   Executor ex(graph, /*seed=*/42);
//   double loss = ex.step({{"x", x_batch}, {"y", y_batch}});
//   const Tensor& dW = ex.value("grad/W");
class Executor {
 public:
  // Copies the graph (checked with kiln::verify), gives every non-param node
  // a zeroed buffer, and initialises the params from their Init with `seed`.
  explicit Executor(const Graph& g, std::uint64_t seed = 0);

  // Copies `value` into leaf `name` (input, labels, param or constant; a fed
  // param replaces its current value, a fed constant overrides its
  // attribute). Throws kiln::Error naming the node, the expected and found
  // shape/dtype, or the labels row whose class id is out of range.
  void feed(std::string_view name, const Tensor& value);
  // Runs every node in topological order, optimizer updates last (each
  // overwrites its operand 0, a param or optimizer state, in place). Throws kiln::Error naming every
  // input or labels node that was never fed.
  void run();
  // feed() each pair, run(), and return the loss value. Throws kiln::Error
  // when the graph has no loss.
  double step(const std::vector<std::pair<std::string, Tensor>>& feeds);

  // A node's current value (a param's lives in the parameter store).
  // Throws kiln::Error for an unknown name.
  const Tensor& value(std::string_view name) const;
  const Tensor& value(NodeId id) const;

  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  const Graph& graph() const { return graph_; }

 private:
  Tensor& buffer(NodeId id);

  Graph graph_;
  std::vector<NodeId> order_;
  ParamStore params_;
  std::vector<Tensor> buffers_;       // by NodeId; unused for params
  std::vector<bool> fed_;             // inputs and labels fed at least once
  std::vector<bool> constant_fed_;    // constants whose attribute is overridden
};

}  // namespace kiln
