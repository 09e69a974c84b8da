#include <catch2/catch.hpp>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "graph/error.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "passes/fuse_forward.hpp"

using namespace kiln;

namespace {

Graph fused(const Graph& g, PassStats& stats, std::vector<std::string> keep = {}) {
  Graph out = fuse_forward(g, stats, PassOptions{std::move(keep)});
  verify(out);
  return out;
}

std::vector<std::string> input_names(const Graph& g, NodeId v) {
  std::vector<std::string> out;
  for (NodeId i : g.inputs(v)) out.push_back(g[i].name);
  return out;
}

bool has_op(const Graph& g, OpKind op) {
  for (NodeId v : g.ids())
    if (g[v].op == op) return true;
  return false;
}

// x·W + b with a loss on top, in `dtype`.
Builder dense_model(DType dtype = DType::f32) {
  Builder b;
  auto x = b.input("x", {4, 3}, dtype);
  auto y = b.labels("y", 4, 5);
  b.set_loss(softmax_cross_entropy(dense(b, x, 5, "fc"), y, "loss"));
  return b;
}

}  // namespace

TEST_CASE("affine: matmul + bias add becomes one affine named like the add", "[fuse_forward]") {
  for (DType t : {DType::f32, DType::f64}) {
    Graph g = dense_model(t).graph();
    PassStats stats;
    Graph out = fused(g, stats);
    CHECK(stats.count_of("affine") == 1);
    NodeId a = out.at("fc/add");
    CHECK(out[a].op == OpKind::affine);
    CHECK(out[a].dtype == t);
    CHECK(input_names(out, a) == std::vector<std::string>{"x", "fc/W", "fc/b"});
    CHECK_FALSE(out.find("fc/matmul"));
    CHECK(stats.nodes_before == g.size());
    CHECK(stats.nodes_after == g.size() - 1);
    CHECK(out[*out.loss()].name == "loss");
  }
}

TEST_CASE("affine: does not fire when a precondition fails", "[fuse_forward]") {
  PassStats stats;
  SECTION("the matmul has a second consumer") {
    Builder b;
    auto x = b.input("x", {4, 3});
    auto w = b.param("W", {3, 5});
    auto bias = b.param("b", {5});
    auto m = matmul(x, w, false, false, "m");
    b.set_loss(add(sum(add(m, bias, "a")), sum(m), "loss"));
    Graph out = fused(b.graph(), stats);
    CHECK(stats.count_of("affine") == 0);
    CHECK(out[out.at("m")].op == OpKind::matmul);
  }
  SECTION("the bias is not a vector of W's column count") {
    Builder b;
    auto x = b.input("x", {4, 3});
    auto w = b.param("W", {3, 5});
    auto scalar = b.param("s", {});
    auto full = b.param("full", {4, 5});
    auto l1 = sum(add(matmul(x, w), scalar, "plus_scalar"));
    auto l2 = sum(add(matmul(x, w), full, "plus_matrix"));
    b.set_loss(add(l1, l2, "loss"));
    Graph out = fused(b.graph(), stats);
    CHECK(stats.count_of("affine") == 0);
    CHECK(out[out.at("plus_scalar")].op == OpKind::add);
    CHECK(out[out.at("plus_matrix")].op == OpKind::add);
  }
  SECTION("the matmul transposes an operand") {
    Builder b;
    auto x = b.input("x", {3, 4});
    auto w = b.param("W", {5, 3});
    auto bias = b.param("b", {5});
    auto ta = add(matmul(x, b.param("W2", {3, 5}), true, false), b.param("b4", {5}), "ta");
    auto tb = add(matmul(b.input("x2", {4, 3}), w, false, true), bias, "tb");
    b.set_loss(add(sum(ta), sum(tb), "loss"));
    Graph out = fused(b.graph(), stats);
    CHECK(stats.count_of("affine") == 0);
  }
  SECTION("the matmul is kept by name (e.g. differentiated or an output)") {
    Graph out = fused(dense_model().graph(), stats, {"fc/matmul"});
    CHECK(stats.count_of("affine") == 0);
    CHECK(out.find("fc/matmul"));
  }
  SECTION("the matmul is a gradient") {
    Graph g = dense_model().graph();
    // Bookkeeping only: a [4, 5] node recorded as the gradient of another.
    g.set_gradient(g.at("fc/add"), g.at("fc/matmul"));
    Graph out = fused(g, stats);
    CHECK(stats.count_of("affine") == 0);
    CHECK(*out.gradient_of(out.at("fc/add")) == out.at("fc/matmul"));
  }
  SECTION("mixed dtypes cannot reach the pass: the graph rejects them when built") {
    Builder b;
    auto x = b.input("x", {4, 3}, DType::f32);
    auto w = b.param("W", {3, 5}, Init::zeros(), DType::f64);
    CHECK_THROWS_AS(matmul(x, w), Error);
    auto m = matmul(x, b.param("W32", {3, 5}));
    CHECK_THROWS_AS(add(m, b.param("b64", {5}, Init::zeros(), DType::f64)), Error);
  }
}

TEST_CASE("affine_relu: relu of an affine becomes one affine_relu named like the relu", "[fuse_forward]") {
  Builder b;
  auto x = b.input("x", {4, 3});
  auto y = b.labels("y", 4, 2);
  auto h = relu(dense(b, x, 6, "fc1"), "h");
  b.set_loss(softmax_cross_entropy(dense(b, h, 2, "fc2"), y, "loss"));
  PassStats stats;
  Graph out = fused(b.graph(), stats);
  CHECK(stats.count_of("affine") == 2);
  CHECK(stats.count_of("affine_relu") == 1);
  CHECK(out[out.at("h")].op == OpKind::affine_relu);
  CHECK(input_names(out, out.at("h")) == std::vector<std::string>{"x", "fc1/W", "fc1/b"});
  CHECK_FALSE(out.find("fc1/add"));
  CHECK(out[out.at("fc2/add")].op == OpKind::affine);
  CHECK(input_names(out, out.at("fc2/add")) == std::vector<std::string>{"h", "fc2/W", "fc2/b"});
  // The fused graph differentiates: affine_relu's rule masks by its own output.
  Graph d = autodiff(out);
  verify(d);
  CHECK(d[d.at("grad/h/relu_grad")].op == OpKind::relu_grad);
}

TEST_CASE("affine_relu: not when the pre-activation is read elsewhere or kept", "[fuse_forward]") {
  PassStats stats;
  SECTION("a second reader") {
    Builder b;
    auto x = b.input("x", {4, 3});
    auto a = dense(b, x, 6, "fc1");
    b.set_loss(add(sum(relu(a, "h")), sum(a), "loss"));
    Graph out = fused(b.graph(), stats);
    CHECK(stats.count_of("affine") == 1);
    CHECK(stats.count_of("affine_relu") == 0);
    CHECK(out[out.at("h")].op == OpKind::relu);
  }
  SECTION("kept by name") {
    Builder b;
    auto x = b.input("x", {4, 3});
    b.set_loss(sum(relu(dense(b, x, 6, "fc1"), "h"), std::nullopt, "loss"));
    Graph out = fused(b.graph(), stats, {"fc1/add"});
    CHECK(stats.count_of("affine") == 1);
    CHECK(stats.count_of("affine_relu") == 0);
    CHECK(out[out.at("fc1/add")].op == OpKind::affine);
  }
}

TEST_CASE("softmax + cross_entropy becomes softmax_cross_entropy under the loss's name", "[fuse_forward]") {
  for (bool one_hot : {false, true}) {
    Builder b;
    auto z = b.param("z", {4, 3});
    Value t = one_hot ? b.input("t", {4, 3}) : b.labels("t", 4, 3);
    b.set_loss(cross_entropy(softmax(z, std::nullopt, "p"), t, "loss"));
    PassStats stats;
    Graph out = fused(b.graph(), stats);
    CHECK(stats.count_of("softmax_cross_entropy") == 1);
    NodeId loss = *out.loss();
    CHECK(out[loss].name == "loss");
    CHECK(out[loss].op == OpKind::softmax_cross_entropy);
    CHECK(input_names(out, loss) == std::vector<std::string>{"z", "t"});
    CHECK_FALSE(out.find("p"));
  }
}

TEST_CASE("softmax + cross_entropy: not when a precondition fails", "[fuse_forward]") {
  PassStats stats;
  SECTION("softmax over the rows, not the classes") {
    Builder b;
    auto z = b.param("z", {4, 3});
    b.set_loss(cross_entropy(softmax(z, 0, "p"), b.labels("t", 4, 3), "loss"));
    Graph out = fused(b.graph(), stats);
    CHECK(stats.count_of("softmax_cross_entropy") == 0);
  }
  SECTION("softmax also read elsewhere") {
    Builder b;
    auto z = b.param("z", {4, 3});
    auto p = softmax(z, std::nullopt, "p");
    b.set_loss(add(cross_entropy(p, b.labels("t", 4, 3)), sum(p), "loss"));
    Graph out = fused(b.graph(), stats);
    CHECK(stats.count_of("softmax_cross_entropy") == 0);
    CHECK(out.find("p"));
  }
  SECTION("probabilities kept as an output") {
    Builder b;
    auto z = b.param("z", {4, 3});
    b.set_loss(cross_entropy(softmax(z, -1, "p"), b.labels("t", 4, 3), "loss"));
    Graph out = fused(b.graph(), stats, {"p"});
    CHECK(stats.count_of("softmax_cross_entropy") == 0);
  }
}

TEST_CASE("log_softmax + the NLL forms users write become softmax_cross_entropy", "[fuse_forward]") {
  SECTION("neg(mean(sum(t * log_softmax(z), axis=1)))") {
    for (bool t_first : {true, false}) {
      Builder b;
      auto z = b.param("z", {4, 3});
      auto t = b.input("t", {4, 3});
      auto ls = log_softmax(z);
      auto prod = t_first ? mul(t, ls) : mul(ls, t);
      b.set_loss(neg(mean(sum(prod, 1)), "nll"));
      PassStats stats;
      Graph out = fused(b.graph(), stats);
      CHECK(stats.count_of("log_softmax_nll") == 1);
      CHECK(out.size() == 3);  // z, t, nll
      CHECK(out[out.at("nll")].op == OpKind::softmax_cross_entropy);
      CHECK(*out.loss() == out.at("nll"));
      CHECK(input_names(out, out.at("nll")) == std::vector<std::string>{"z", "t"});
    }
  }
  SECTION("scale(sum(t * log_softmax(z)), -1/N)") {
    Builder b;
    auto z = b.param("z", {4, 3}, Init::zeros(), DType::f64);
    auto t = b.constant("t", {4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0}, DType::f64);
    b.set_loss(scale(sum(mul(t, log_softmax(z, -1))), -1.0 / 4, "loss"));
    PassStats stats;
    Graph out = fused(b.graph(), stats);
    CHECK(stats.count_of("log_softmax_nll") == 1);
    CHECK(out[*out.loss()].op == OpKind::softmax_cross_entropy);
    CHECK(out[*out.loss()].dtype == DType::f64);
  }
}

TEST_CASE("log_softmax NLL: not when a precondition fails", "[fuse_forward]") {
  PassStats stats;
  Builder b;
  auto z = b.param("z", {4, 3});
  auto t = b.input("t", {4, 3});
  SECTION("the factor is not -1/N") {
    b.set_loss(scale(sum(mul(t, log_softmax(z))), -1.0 / 3));
  }
  SECTION("the sum runs over the rows first") {
    b.set_loss(neg(mean(sum(mul(t, log_softmax(z)), 0))));
  }
  SECTION("the targets are computed from a param") {
    auto tp = b.param("tp", {4, 3});
    b.set_loss(neg(mean(sum(mul(tp, log_softmax(z)), 1))));
  }
  SECTION("log_softmax over the rows") {
    b.set_loss(neg(mean(sum(mul(t, log_softmax(z, 0)), 1))));
  }
  SECTION("the row sums are read elsewhere") {
    auto rows = sum(mul(t, log_softmax(z)), 1);
    b.set_loss(add(neg(mean(rows)), sum(rows)));
  }
  Graph out = fused(b.graph(), stats);
  CHECK(stats.count_of("log_softmax_nll") == 0);
  CHECK_FALSE(has_op(out, OpKind::softmax_cross_entropy));
}
