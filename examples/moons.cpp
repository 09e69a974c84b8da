// Two interleaved half-moons, separated by a 2-264-2-2 ReLU network: a wide
// hidden layer of 264 units, a 2-unit bottleneck (whose activations can be
// plotted as a learned 2-D feature space), and 2 class scores. He
// initialisation suits the ReLU layers.
//
//   example_moons            trains it (1,000 full-batch steps) and prints the training accuracy
//   example_moons GRAPH.json writes the graph file instead
#include <iostream>

#include "frontends/builder.hpp"
#include "frontends/json.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "frontends/data/data.hpp"
#include "frontends/train/train.hpp"
#include "graph/error.hpp"
#include "runtime/plan.hpp"

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
  if (argc > 1) {  // write the graph file and stop (a test compares it with examples/graphs/)
    kiln::save_graph_file(g.graph(), argv[1]);
    std::cout << "wrote " << argv[1] << "\n";
    return 0;
  }

  // Train: SGD with momentum 0.99, lr 0.01, 1,000 full-batch steps.
  kiln::data::Dataset moons = kiln::data::make_moons(/*seed=*/0);
  kiln::OptimizerOptions momentum{.kind = kiln::OptimizerOptions::Kind::momentum, .lr = 0.01, .momentum = 0.99};
  kiln::Plan plan = kiln::compile(g.graph(), {.optimizer = momentum});
  const auto nodes = kiln::train::find_classifier_nodes(g.graph(), "moons");
  kiln::train::ShuffledBatches batches(moons, nodes, /*shuffle=*/false, /*seed=*/0);
  batches.start_epoch(0);
  batches.fill(0, plan);
  for (int step = 0; step < 1000; ++step) {
    const double loss = plan.step();
    if (step % 100 == 0) std::cout << "step " << step << "  loss " << loss << "\n";
  }
  kiln::train::Evaluator evaluator(g.graph(), plan.shared_params(), 1000);
  std::cout << "training accuracy " << evaluator.evaluate(moons).accuracy() << "\n";
  return 0;
} catch (const kiln::Error& e) {
  std::cerr << "example_moons: error: " << e.what() << "\n";
  return 2;
}
