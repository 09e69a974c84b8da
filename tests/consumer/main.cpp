// Builds a small classifier with the installed kiln headers and libraries
// and prints its node count; the test compares it with the count expected
// from the layers used (see run_consumer_test.cmake).
#include <iostream>

#include <kiln/kiln.hpp>

int main() {
  try {
    kiln::Builder g;
    auto x = g.input("x", {8, 4});
    auto y = g.labels("y", 8, 3);
    auto h = relu(dense(g, x, 5, "fc1"));
    g.set_loss(softmax_cross_entropy(dense(g, h, 3, "fc2"), y, "loss"));
    kiln::verify(g.graph());
    std::cout << "kiln consumer: " << g.graph().size() << " nodes\n";
  } catch (const kiln::Error& e) {
    std::cerr << "kiln consumer: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
