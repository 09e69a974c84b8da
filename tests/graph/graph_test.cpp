#include <catch2/catch.hpp>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "graph/error.hpp"
#include "graph/verify.hpp"

using namespace kiln;

TEST_CASE("builder infers shapes and names nodes under scopes", "[graph]") {
  Builder g;
  auto x = g.input("x", {32, 784});
  auto y = g.labels("y", 32, 10);
  auto h = relu(dense(g, x, 100, "fc1"));
  auto logits = dense(g, h, 10, "fc2");
  auto loss = softmax_cross_entropy(logits, y, "loss");
  g.set_loss(loss);
  CHECK(h.shape() == Shape{32, 100});
  CHECK(logits.shape() == Shape{32, 10});
  CHECK(loss.shape().is_scalar());
  CHECK(g.graph().find("fc1/W"));
  CHECK(g.graph().find("fc1/matmul"));
  CHECK(g.graph().find("fc2/add"));
  CHECK(g.graph()[y.id()].dtype == DType::i32);
  verify(g.graph());
}

TEST_CASE("operand order is kept on the edges, including repeated operands", "[graph]") {
  Builder g;
  auto a = g.input("a", {3});
  auto b = g.input("b", {3});
  auto d = sub(b, a, "d");
  auto sq = mul(a, a, "sq");
  CHECK(g.graph().inputs(d.id()) == std::vector<NodeId>{b.id(), a.id()});
  CHECK(g.graph().inputs(sq.id()) == std::vector<NodeId>{a.id(), a.id()});
  CHECK(g.graph().consumers(a.id()) == std::vector<NodeId>{d.id(), sq.id(), sq.id()});
}

TEST_CASE("a matmul of mismatched shapes names the node and both shapes", "[graph]") {
  Builder g;
  auto x = g.input("x", {32, 784});
  auto w = g.param("W", {100, 10});
  try {
    matmul(x, w, false, false, "fc");
    FAIL("expected an error");
  } catch (const Error& e) {
    std::string m = e.what();
    CHECK_THAT(m, Catch::Contains("node 'fc' (matmul)"));
    CHECK_THAT(m, Catch::Contains("[32, 784]"));
    CHECK_THAT(m, Catch::Contains("[100, 10]"));
    CHECK_THAT(m, Catch::Contains("784 == 100"));
  }
}

TEST_CASE("topological order puts operands first", "[graph]") {
  Builder g;
  auto x = g.input("x", {2, 2});
  auto y = exp(x);
  auto z = add(y, x);
  auto order = g.graph().topological_order();
  auto pos = [&](NodeId id) { return std::find(order.begin(), order.end(), id) - order.begin(); };
  CHECK(pos(x.id()) < pos(y.id()));
  CHECK(pos(y.id()) < pos(z.id()));
}
