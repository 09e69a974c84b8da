// The cs231n spiral classifier: 300 points on three interleaved arms, a
// 2-100-3 ReLU network, and L2 regularisation written into the loss:
//
//   loss = softmax_cross_entropy(scores, y) + 0.5·λ·(‖W1‖² + ‖W2‖²),  λ = 1e-3
//
// The layers are spelled out with param/matmul/add (what `dense` does for you)
// so that the weights are at hand for the penalty.
//
//   example_spiral            trains it (10,000 full-batch steps) and prints the training accuracy
//   example_spiral GRAPH.json writes the graph file instead
#include <iostream>

#include "frontends/builder.hpp"
#include "frontends/json.hpp"
#include "frontends/models.hpp"
#include "frontends/data/data.hpp"
#include "frontends/train/train.hpp"
#include "graph/error.hpp"
#include "runtime/plan.hpp"

int main(int argc, char** argv) try {
  using kiln::Init;
  const double lambda = 1e-3;

  kiln::Builder g;
  auto x = g.input("x", {300, 2});  // (x, y) coordinates of each point
  auto y = g.labels("y", 300, 3);   // which arm it lies on

  // Layer "fc1": names created inside a scope get the "fc1/" prefix.
  kiln::Value W1, W2, h, scores;
  {
    auto scope = g.scope("fc1");
    W1 = g.param("W", {2, 100}, Init::normal(0.01));  // 0.01·N(0, 1)
    auto b1 = g.param("b", {100}, Init::zeros());
    h = relu(matmul(x, W1) + b1, "relu");
  }
  {
    auto scope = g.scope("fc2");
    W2 = g.param("W", {100, 3}, Init::normal(0.01));
    auto b2 = g.param("b", {3}, Init::zeros());
    scores = matmul(h, W2) + b2;
  }
  auto data_loss = softmax_cross_entropy(scores, y, "data_loss");
  // l2(W) is 0.5·‖W‖², so λ·(l2(W1) + l2(W2)) is the penalty above.
  auto l2_W1 = l2(W1, "fc1/W/l2");
  auto l2_W2 = l2(W2, "fc2/W/l2");
  auto squares = add(l2_W1, l2_W2, "weights_l2");
  g.set_loss(add(data_loss, scale(squares, lambda, "reg_loss"), "loss"));

  std::cout << "spiral-net: 2-100-3 ReLU network with L2 penalty\n" << kiln::model_summary(g.graph());
  if (argc > 1) {  // write the graph file and stop (a test compares it with examples/graphs/)
    kiln::save_graph_file(g.graph(), argv[1]);
    std::cout << "wrote " << argv[1] << "\n";
    return 0;
  }

  // Train: full-batch gradient descent, lr 1.0, 10,000 steps.
  kiln::data::Dataset spiral = kiln::data::make_spiral(/*seed=*/0);
  kiln::Plan plan = kiln::compile(g.graph(), {.optimizer = kiln::OptimizerOptions{.lr = 1.0}});
  const auto nodes = kiln::train::find_classifier_nodes(g.graph(), "spiral");
  kiln::train::ShuffledBatches batches(spiral, nodes, /*shuffle=*/false, /*seed=*/0);
  batches.start_epoch(0);
  batches.fill(0, plan);  // every step sees the same full batch: fill once
  for (int step = 0; step < 10000; ++step) {
    const double loss = plan.step();
    if (step % 1000 == 0) std::cout << "step " << step << "  loss " << loss << "\n";
  }
  kiln::train::Evaluator evaluator(g.graph(), plan.shared_params(), 300);
  std::cout << "training accuracy " << evaluator.evaluate(spiral).accuracy() << "\n";
  return 0;
} catch (const kiln::Error& e) {
  std::cerr << "example_spiral: error: " << e.what() << "\n";
  return 2;
}
