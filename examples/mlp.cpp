// A 784-100-200-10 multilayer perceptron for 28×28 images (MNIST, Fashion-MNIST).
// Each hidden layer is dense (x·W + b) followed by ReLU; the output layer gives
// 10 class scores. Weights start from N(0, 0.01²), biases from zero.
//
//   example_mlp [GRAPH.json]   prints a summary, optionally writes the graph
#include <iostream>

#include "frontends/builder.hpp"
#include "frontends/json.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"

int main(int argc, char** argv) try {
  const std::int64_t batch = 32;
  const kiln::Init weights = kiln::Init::normal(0.01);  // std 0.01, mean 0

  kiln::Builder g;
  auto x = g.input("x", {batch, 784});  // flattened images
  auto y = g.labels("y", batch, 10);    // class ids
  auto h1 = relu(dense(g, x, 100, "fc1", weights), "fc1/relu");
  auto h2 = relu(dense(g, h1, 200, "fc2", weights), "fc2/relu");
  auto logits = dense(g, h2, 10, "fc3", weights);
  g.set_loss(softmax_cross_entropy(logits, y, "loss"));

  std::cout << "mlp: 784-100-200-10 ReLU network\n" << kiln::model_summary(g.graph());
  if (argc > 1) {
    kiln::save_graph_file(g.graph(), argv[1]);
    std::cout << "wrote " << argv[1] << "\n";
  }
  return 0;
} catch (const kiln::Error& e) {
  std::cerr << "example_mlp: error: " << e.what() << "\n";
  return 2;
}
