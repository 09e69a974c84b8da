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

TEST_CASE("a multi-output node owns one type per output, and get_output names output k >= 1 once",
          "[graph][multi_output]") {
  Graph g;
  NodeId z = g.add_explicit(OpKind::input, {}, Shape{5, 3}, DType::f64, {}, "z");
  Attrs la;
  la.classes = 3;
  NodeId y = g.add_explicit(OpKind::labels, {}, Shape{5}, DType::i32, la, "y");
  NodeId fused = g.add(OpKind::softmax_cross_entropy_with_grad, {z, y}, {}, "loss");
  CHECK(g[fused].shape == Shape{});
  CHECK(g[fused].dtype == DType::f64);
  REQUIRE(g[fused].extra_outputs.size() == 1);
  CHECK(g[fused].extra_outputs[0] == TensorType{Shape{5, 3}, DType::f64});
  CHECK(g.output_types(fused) == std::vector<TensorType>{{Shape{}, DType::f64}, {Shape{5, 3}, DType::f64}});
  CHECK(g.output_types(z) == std::vector<TensorType>{{Shape{5, 3}, DType::f64}});
  CHECK(g[z].extra_outputs.empty());
  CHECK_FALSE(g.projection(fused, 1));

  NodeId dz = g.add(OpKind::get_output, {fused}, {}, "dz");  // index 1 by default
  CHECK(g[dz].shape == Shape{5, 3});
  CHECK(g[dz].dtype == DType::f64);
  CHECK(g.projection(fused, 1) == dz);
  g.set_loss(fused);
  verify(g);

  Attrs second;
  second.index = 2;
  CHECK_THROWS_WITH(g.add(OpKind::get_output, {fused}, second, "past"),
                    Catch::Contains("node 'past' (get_output): expected an output index in [1, 2), found 2"));
  second.index = 0;
  CHECK_THROWS_WITH(g.add(OpKind::get_output, {fused}, second, "zeroth"),
                    Catch::Contains("attribute 'index': expected a positive integer, found 0"));
  CHECK_THROWS_WITH(g.add(OpKind::get_output, {z}, {}, "single"),
                    Catch::Contains("node 'single' (get_output): expected an input with several outputs"));
  CHECK_THROWS_WITH(g.add(OpKind::get_output, {fused}, {}, "again"),
                    Catch::Contains("output 1 of node 'loss' (softmax_cross_entropy_with_grad) is already read by 'dz'"));
  // The failed additions left the graph as it was.
  CHECK(g.size() == 4);
  verify(g);
}
