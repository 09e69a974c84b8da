// Structure of the backward graph; the numbers are checked by
// the op table (tests/ops/op_table_test.cpp) against finite differences.
#include <catch2/catch.hpp>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "graph/error.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "passes/gradient_rules.hpp"

using namespace kiln;

namespace {

Graph mlp_forward() {
  Builder g;
  auto x = g.input("x", {4, 3});
  auto y = g.labels("y", 4, 2);
  auto h = relu(dense(g, x, 5, "fc1"), "h");
  g.set_loss(softmax_cross_entropy(dense(g, h, 2, "fc2"), y, "loss"));
  return g.graph();
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("autodiff names each param's gradient grad/<param> and records it", "[autodiff]") {
  Graph fwd = mlp_forward();
  Graph g = autodiff(fwd);
  verify(g);
  for (const char* p : {"fc1/W", "fc1/b", "fc2/W", "fc2/b"}) {
    auto grad = g.gradient_of(g.at(p));
    REQUIRE(grad);
    CHECK(g[*grad].name == std::string("grad/") + p);
    CHECK(g[*grad].role == Role::backward);
    CHECK(g[*grad].shape == g[g.at(p)].shape);
  }
  // The forward part is unchanged and keeps its ids.
  for (NodeId v : fwd.ids()) CHECK(g[v].name == fwd[v].name);
  // The W gradients are products with transpose flags, not transposed copies.
  const Node& dw = g[*g.gradient_of(g.at("fc1/W"))];
  CHECK(dw.op == OpKind::matmul);
  CHECK(dw.attrs.transpose_a);
  CHECK(g[*g.gradient_of(g.at("fc1/b"))].op == OpKind::sum);
  CHECK(g[g.at("grad/h")].op == OpKind::matmul);
  CHECK(g[g.at("grad/fc1/add")].op == OpKind::relu_grad);
}

TEST_CASE("nodes that no differentiated node reaches get no gradient code", "[autodiff]") {
  Graph g = autodiff(mlp_forward());
  CHECK_FALSE(g.find("grad/x"));
  CHECK_FALSE(g.find("grad/y"));
  // Only the first layer's input gradient is needed: grad/x is not built, and
  // nothing derives a gradient for the labels.
  for (NodeId v : g.ids()) {
    const Node& n = g[v];
    if (n.role != Role::backward) continue;
    for (NodeId i : g.inputs(v)) CHECK(g[i].name != "grad/x");
  }
}

TEST_CASE("several contributions are summed by one visible add_n", "[autodiff]") {
  Builder b;
  auto x = b.param("x", {3});
  auto f = add(mul(x, x, "xx"), x, "f");
  b.set_loss(sum(f, std::nullopt, "loss"));
  Graph g = autodiff(b.graph());
  NodeId gx = *g.gradient_of(g.at("x"));
  CHECK(g[gx].op == OpKind::add_n);
  CHECK(g[gx].name == "grad/x");
  CHECK(g.inputs(gx).size() == 3);
}

TEST_CASE("a weight used twice gets the summed gradient node", "[autodiff]") {
  Builder b;
  auto x = b.input("x", {2, 3});
  auto w = b.param("W", {3, 3});
  auto h = matmul(matmul(x, w, false, false, "first"), w, false, false, "second");
  b.set_loss(sum(h, std::nullopt, "loss"));
  Graph g = autodiff(b.graph());
  NodeId gw = *g.gradient_of(g.at("W"));
  CHECK(g[gw].op == OpKind::add_n);
  CHECK(g.find("grad/W/from/first"));
  CHECK(g.find("grad/W/from/second"));
}

TEST_CASE("differentiating with respect to inputs on request", "[autodiff]") {
  AutodiffOptions opt;
  opt.wrt = {"x"};
  Graph g = autodiff(mlp_forward(), opt);
  REQUIRE(g.gradient_of(g.at("x")));
  CHECK(g[*g.gradient_of(g.at("x"))].name == "grad/x");
  CHECK_FALSE(g.gradient_of(g.at("fc1/W")));
}

TEST_CASE("autodiff errors name the culprit", "[autodiff]") {
  SECTION("no loss") {
    Builder b;
    b.param("W", {2});
    CHECK_THAT(message_of([&] { autodiff(b.graph()); }), Catch::Contains("no loss"));
  }
  SECTION("a non-scalar loss is refused when it is set") {
    Builder b;
    auto w = b.param("W", {2});
    CHECK_THAT(message_of([&] { b.set_loss(w); }), Catch::Contains("must be a scalar") && Catch::Contains("[2]"));
  }
  SECTION("an unknown node to differentiate") {
    AutodiffOptions opt;
    opt.wrt = {"nope"};
    CHECK_THAT(message_of([&] { autodiff(mlp_forward(), opt); }), Catch::Contains("'nope'"));
  }
  SECTION("labels are not differentiable") {
    AutodiffOptions opt;
    opt.wrt = {"y"};
    CHECK_THAT(message_of([&] { autodiff(mlp_forward(), opt); }), Catch::Contains("node 'y' (labels)") && Catch::Contains("i32"));
  }
  SECTION("a param that does not reach the loss") {
    Builder b;
    auto w = b.param("W", {2});
    b.param("unused", {2});
    b.set_loss(l2(w, "loss"));
    CHECK_THAT(message_of([&] { autodiff(b.graph()); }),
               Catch::Contains("node 'unused' (param) does not reach the loss 'loss'"));
  }
  SECTION("an op without a gradient rule on a needed path") {
    Builder b;
    auto w = b.param("W", {2, 2});
    auto r = b.op(OpKind::relu_grad, {w, w}, {}, "rg");
    b.set_loss(sum(r, std::nullopt, "loss"));
    CHECK_THAT(message_of([&] { autodiff(b.graph()); }),
               Catch::Contains("node 'rg' (relu_grad)") && Catch::Contains("has no gradient rule"));
  }
  SECTION("targets of a classification loss are not differentiated") {
    Builder b;
    auto z = b.param("z", {2, 3});
    auto t = b.param("t", {2, 3});
    b.set_loss(softmax_cross_entropy(z, t, "loss"));
    CHECK_THAT(message_of([&] { autodiff(b.graph()); }),
               Catch::Contains("node 'loss' (softmax_cross_entropy)") && Catch::Contains("targets 't'"));
  }
}
