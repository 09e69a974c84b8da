// Two interleaved half-moons, separated by a 2-264-2-2 ReLU network: a wide
// hidden layer of 264 units, a 2-unit bottleneck (whose activations can be
// plotted as a learned 2-D feature space), and 2 class scores. He
// initialisation suits the ReLU layers.
//
//   example_moons [GRAPH.json]   prints a summary, optionally writes the graph
#include <iostream>

#include "frontends/builder.hpp"
#include "frontends/json.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"

int main(int argc, char** argv) try {
  const std::int64_t batch = 1000;
  const kiln::Init he = kiln::Init::he();  // N(0, 2 / fan_in)

  kiln::Builder g;
  auto x = g.input("x", {batch, 2});  // point coordinates
  auto y = g.labels("y", batch, 2);   // which moon
  auto h1 = relu(dense(g, x, 264, "fc1", he), "fc1/relu");
  auto h2 = relu(dense(g, h1, 2, "fc2", he), "fc2/relu");
  auto logits = dense(g, h2, 2, "fc3", he);
  g.set_loss(softmax_cross_entropy(logits, y, "loss"));

  std::cout << "moons-net: 2-264-2-2 ReLU network\n" << kiln::model_summary(g.graph());
  if (argc > 1) {
    kiln::save_graph_file(g.graph(), argv[1]);
    std::cout << "wrote " << argv[1] << "\n";
  }
  return 0;
} catch (const kiln::Error& e) {
  std::cerr << "example_moons: error: " << e.what() << "\n";
  return 2;
}
