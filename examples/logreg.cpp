// Multinomial logistic regression on the 8×8 digits: the simplest model kiln
// trains. One dense layer maps 64 pixel values to 10 class scores; the loss is
// the softmax cross-entropy against integer labels. Weights start at zero (the
// loss is convex, so no symmetry needs breaking).
//
//   example_logreg            trains it (301 epochs, seconds) and prints the loss and test accuracy
//   example_logreg GRAPH.json writes the graph file instead
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
  const std::int64_t batch = 1257;  // the 70% training split of the 1,797 digits

  kiln::Builder g;
  auto x = g.input("x", {batch, 64});     // one flattened 8×8 image per row
  auto y = g.labels("y", batch, 10);      // its digit, 0..9
  auto logits = dense(g, x, 10, "fc1", kiln::Init::zeros(), kiln::Init::zeros());
  g.set_loss(softmax_cross_entropy(logits, y, "loss"));

  std::cout << "logreg: 64 -> 10 softmax regression\n" << kiln::model_summary(g.graph());
  if (argc > 1) {  // write the graph file and stop (a test compares it with examples/graphs/)
    kiln::save_graph_file(g.graph(), argv[1]);
    std::cout << "wrote " << argv[1] << "\n";
    return 0;
  }

  // Train: full-batch gradient descent, lr 0.01, 301 epochs, pixels unscaled
  // (0..16). One plan runs forward, backward and update; each epoch streams
  // the training rows into the plan's own input buffers.
  const kiln::data::Split digits = kiln::data::load_digits(/*seed=*/0);
  kiln::Plan plan = kiln::compile(g.graph(), {.optimizer = kiln::OptimizerOptions{.lr = 0.01}});
  const auto nodes = kiln::train::find_classifier_nodes(g.graph(), "logreg");
  kiln::train::ShuffledBatches batches(digits.train, nodes, /*shuffle=*/false, /*seed=*/0);
  for (int epoch = 0; epoch <= 300; ++epoch) {
    batches.start_epoch(epoch);
    batches.fill(0, plan);  // the one full batch
    const double loss = plan.step();  // computed before this step's update
    if (epoch % 50 == 0) std::cout << "epoch " << epoch << "  loss " << loss << "\n";
  }
  // A forward-only plan over the same params scores the 540 test rows.
  kiln::train::Evaluator evaluator(g.graph(), plan.shared_params(), 540);
  std::cout << "test accuracy " << evaluator.evaluate(digits.test).accuracy() << "\n";
  return 0;
} catch (const kiln::Error& e) {
  std::cerr << "example_logreg: error: " << e.what() << "\n";
  return 2;
}
