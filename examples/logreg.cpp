// Multinomial logistic regression on the 8×8 digits: the simplest model kiln
// trains. One dense layer maps 64 pixel values to 10 class scores; the loss is
// the softmax cross-entropy against integer labels. Weights start at zero (the
// loss is convex, so no symmetry needs breaking).
//
//   example_logreg [GRAPH.json]   prints a summary, optionally writes the graph
#include <iostream>

#include "frontends/builder.hpp"
#include "frontends/json.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"

int main(int argc, char** argv) try {
  const std::int64_t batch = 1257;  // the 70% training split of the 1,797 digits

  kiln::Builder g;
  auto x = g.input("x", {batch, 64});     // one flattened 8×8 image per row
  auto y = g.labels("y", batch, 10);      // its digit, 0..9
  auto logits = dense(g, x, 10, "fc1", kiln::Init::zeros(), kiln::Init::zeros());
  g.set_loss(softmax_cross_entropy(logits, y, "loss"));

  std::cout << "logreg: 64 -> 10 softmax regression\n" << kiln::model_summary(g.graph());
  if (argc > 1) {
    kiln::save_graph_file(g.graph(), argv[1]);
    std::cout << "wrote " << argv[1] << "\n";
  }
  return 0;
} catch (const kiln::Error& e) {
  std::cerr << "example_logreg: error: " << e.what() << "\n";
  return 2;
}
