// A 784-100-200-10 multilayer perceptron for 28×28 images (MNIST, Fashion-MNIST).
// Each hidden layer is dense (x·W + b) followed by ReLU; the output layer gives
// 10 class scores. Weights start from N(0, 0.01²), biases from zero.
//
//   example_mlp               trains it on Fashion-MNIST for 25 epochs, printing validation and test accuracy
//   example_mlp GRAPH.json    writes the graph file instead
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
  if (argc > 1) {  // write the graph file and stop (a test compares it with examples/graphs/)
    kiln::save_graph_file(g.graph(), argv[1]);
    std::cout << "wrote " << argv[1] << "\n";
    return 0;
  }

  // Train on Fashion-MNIST (Debian's dataset-fashion-mnist): pixels scaled by
  // 1/255, the last 10,000 training images held out for validation, SGD lr
  // 0.1, batches of 32 drawn in a fresh shuffled order each epoch.
  kiln::data::Split fashion = kiln::data::load_dataset("fashion-mnist", /*seed=*/0);
  kiln::data::Split held = kiln::data::hold_out_last(std::move(fashion.train), 10000);
  for (kiln::data::Dataset* d : {&held.train, &held.test, &fashion.test}) kiln::data::scale(*d, 1.0 / 255);
  kiln::Plan plan = kiln::compile(g.graph(), {.optimizer = kiln::OptimizerOptions{.lr = 0.1}});
  const auto nodes = kiln::train::find_classifier_nodes(g.graph(), "mlp");
  kiln::train::ShuffledBatches batches(held.train, nodes, /*shuffle=*/true, /*seed=*/0);
  kiln::train::Evaluator evaluator(g.graph(), plan.shared_params(), 1000);
  const int epochs = 25;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    batches.start_epoch(epoch);
    double sum = 0;
    for (std::int64_t b = 0; b < batches.count(); ++b) {
      batches.fill(b, plan);
      sum += plan.step();
    }
    std::cout << "epoch " << epoch << "  loss " << sum / static_cast<double>(batches.count()) << "  val "
              << evaluator.evaluate(held.test).accuracy() << "  test " << evaluator.evaluate(fashion.test).accuracy()
              << "\n";
  }
  return 0;
} catch (const kiln::Error& e) {
  std::cerr << "example_mlp: error: " << e.what() << "\n";
  return 2;
}
