// The importer's node ordering: files out of order are sorted, and what
// cannot be ordered is refused naming the ONNX node and the value.
#include <catch2/catch.hpp>

#include "frontends/onnx/graph_order.hpp"
#include "graph/error.hpp"
#include "onnx_model_builders.hpp"

using namespace kiln::onnx;
using namespace kiln::onnx::test;
using Catch::Matchers::Contains;

TEST_CASE("order_nodes sorts nodes written out of order", "[onnx]") {
  Model m = model_with({4, 3}, {node("Relu", {"h"}, {"out"}, "second"), node("Tanh", {"x"}, {"h"}, "first")});
  order_nodes(m);
  REQUIRE(m.nodes.size() == 2);
  CHECK(m.nodes[0].name == "first");
  CHECK(m.nodes[1].name == "second");
}

TEST_CASE("order_nodes names a node on a cycle, not one merely behind it", "[onnx]") {
  Model m = model_with({4, 3}, {node("Relu", {"c"}, {"out"}, "behind"), node("Add", {"x", "b"}, {"a"}, "one"),
                                node("Relu", {"a"}, {"b"}, "two"), node("Relu", {"b"}, {"c"}, "three")});
  try {
    order_nodes(m);
    FAIL("a cycle was accepted");
  } catch (const kiln::Error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Contains("test.onnx: ONNX node '") && Contains("is on a cycle"));
    CHECK((message.find("'one'") != std::string::npos || message.find("'two'") != std::string::npos));
  }
}

TEST_CASE("order_nodes refuses a value nothing defines, a value defined twice, an output never made", "[onnx]") {
  Model dangling = model_with({4, 3}, {node("Relu", {"nowhere"}, {"out"}, "r")});
  CHECK_THROWS_WITH(order_nodes(dangling),
                    "test.onnx: ONNX node 'r' (Relu) reads 'nowhere', which no node, initializer or input defines");
  Model twice = model_with({4, 3}, {node("Relu", {"x"}, {"out"}, "a"), node("Tanh", {"x"}, {"out"}, "b")});
  CHECK_THROWS_WITH(order_nodes(twice), Contains("ONNX node 'b' (Tanh) defines 'out', which is already defined"));
  Model missing = model_with({4, 3}, {node("Relu", {"x"}, {"h"}, "a")});
  CHECK_THROWS_WITH(order_nodes(missing), "test.onnx: graph output 'out' is produced by no node");
}
