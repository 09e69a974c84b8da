#include <catch2/catch.hpp>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "passes/fuse_backward.hpp"
#include "passes/fuse_forward.hpp"
#include "passes/simplify.hpp"
#include "tests/passes/fusion_seed_models.hpp"

using namespace kiln;

namespace {

Graph backward_fused(const Graph& g, PassStats& stats, std::vector<std::string> keep = {}) {
  Graph out = fuse_backward(g, stats, PassOptions{std::move(keep)});
  verify(out);
  return out;
}

std::vector<std::string> input_names(const Graph& g, NodeId v) {
  std::vector<std::string> out;
  for (NodeId i : g.inputs(v)) out.push_back(g[i].name);
  return out;
}

int count_op(const Graph& g, OpKind op) {
  int n = 0;
  for (NodeId v : g.ids()) n += g[v].op == op;
  return n;
}

// x2 = x·V reaches the loss directly and through s = r + r with r = x2 + c:
// r is read twice, so its gradient is a sum, which passes through r's add
// (c needs no gradient) into x2's own gradient sum — a sum of sums.
Graph sum_of_sums_model() {
  Builder b;
  auto x = b.input("x", {4, 3});
  auto c = b.input("c", {4, 3});
  auto v = b.param("V", {3, 3});
  auto x2 = matmul(x, v, false, false, "x2");
  auto r = add(x2, c, "r");
  auto s = add(r, r, "s");
  b.set_loss(sum(add(s, x2, "u"), std::nullopt, "loss"));
  return b.graph();
}

}  // namespace

TEST_CASE("add_n_flatten: a sum of gradient sums becomes one add_n", "[fuse_backward]") {
  Builder b;
  auto p = b.param("p", {3});
  auto q = b.param("q", {3});
  auto inner = b.op(OpKind::add_n, {p, q}, {}, "inner");
  auto innermost = b.op(OpKind::add_n, {q, q}, {}, "innermost");
  auto middle = b.op(OpKind::add_n, {innermost, p}, {}, "middle");
  auto outer = b.op(OpKind::add_n, {p, inner, middle}, {}, "outer");
  b.set_loss(sum(outer, std::nullopt, "loss"));
  PassStats stats;
  Graph out = backward_fused(b.graph(), stats);
  CHECK(stats.count_of("add_n_flatten") == 3);
  CHECK(input_names(out, out.at("outer")) == std::vector<std::string>{"p", "p", "q", "q", "q", "p"});
  CHECK_FALSE(out.find("inner"));
  CHECK_FALSE(out.find("middle"));
  CHECK_FALSE(out.find("innermost"));
}

TEST_CASE("add_n_flatten fires on a gradient sum that flows into another", "[fuse_backward]") {
  Graph g = autodiff(sum_of_sums_model());
  REQUIRE(g[g.at("grad/r")].op == OpKind::add_n);
  int sums_before = count_op(g, OpKind::add_n);
  PassStats stats;
  Graph out = backward_fused(g, stats);
  CHECK(stats.count_of("add_n_flatten") == 1);
  CHECK(count_op(out, OpKind::add_n) == sums_before - 1);
  CHECK_FALSE(out.find("grad/r"));
  NodeId dx2 = out.at("grad/x2");
  CHECK(out[dx2].op == OpKind::add_n);
  CHECK(out.inputs(dx2).size() == 3);
  CHECK(out[*out.gradient_of(out.at("V"))].name == "grad/V");
}

TEST_CASE("add_n_flatten: not when the inner sum is read elsewhere or observed", "[fuse_backward]") {
  Builder b;
  auto p = b.param("p", {3});
  auto q = b.param("q", {3});
  auto inner = b.op(OpKind::add_n, {p, q}, {}, "inner");
  auto outer = b.op(OpKind::add_n, {inner, q}, {}, "outer");
  PassStats stats;
  SECTION("a second reader") {
    b.set_loss(add(sum(outer), sum(inner), "loss"));
    Graph out = backward_fused(b.graph(), stats);
    CHECK(stats.count_of("add_n_flatten") == 0);
  }
  SECTION("the inner sum is a gradient") {
    b.set_loss(sum(outer, std::nullopt, "loss"));
    Graph g = b.graph();
    g.set_gradient(g.at("p"), g.at("inner"));
    Graph out = backward_fused(g, stats);
    CHECK(stats.count_of("add_n_flatten") == 0);
    CHECK(out[*out.gradient_of(out.at("p"))].name == "inner");
  }
  SECTION("the inner sum is kept by name") {
    b.set_loss(sum(outer, std::nullopt, "loss"));
    Graph out = backward_fused(b.graph(), stats, {"inner"});
    CHECK(stats.count_of("add_n_flatten") == 0);
  }
}

TEST_CASE("expand_broadcast: the expanded gradient of a mean is broadcast instead", "[fuse_backward]") {
  // Mean squared error: mean's gradient expands a scalar to [4, 3], which
  // square's gradient then multiplies elementwise.
  Builder b;
  auto pred = b.param("pred", {4, 3});
  auto target = b.input("target", {4, 3});
  b.set_loss(mean(square(sub(pred, target, "diff")), std::nullopt, "loss"));
  Graph g = autodiff(b.graph());
  REQUIRE(count_op(g, OpKind::expand) == 1);
  PassStats stats;
  Graph out = backward_fused(g, stats);
  CHECK(stats.count_of("expand_broadcast") == 1);
  CHECK(count_op(out, OpKind::expand) == 0);
  NodeId m = out.at("grad/square/mul");
  CHECK(out[m].op == OpKind::mul);
  auto ins = out.inputs(m);
  CHECK(out[ins[0]].name == "diff");
  CHECK(out[ins[1]].shape.is_scalar());
}

TEST_CASE("expand_broadcast: a vector expanded along axis 0 is a bias broadcast", "[fuse_backward]") {
  Builder b;
  auto x = b.param("x", {4, 3});
  auto v = b.param("v", {3});
  auto e = b.graph().add_explicit(OpKind::expand, {v.id()}, Shape{4, 3}, DType::f32, [] {
    Attrs a;
    a.axis = 0;
    return a;
  }(), "e");
  auto prod = mul(Value(&b, e), x, "prod");
  b.set_loss(sum(prod, std::nullopt, "loss"));
  PassStats stats;
  Graph out = backward_fused(b.graph(), stats);
  CHECK(stats.count_of("expand_broadcast") == 1);
  CHECK(input_names(out, out.at("prod")) == std::vector<std::string>{"x", "v"});
}

TEST_CASE("expand_broadcast: not when the expanded value does not broadcast as it is", "[fuse_backward]") {
  Builder b;
  auto x = b.param("x", {3, 3});
  auto v = b.param("v", {3});
  PassStats stats;
  auto expand_along = [&](int axis) {
    Attrs a;
    a.axis = axis;
    return Value(&b, b.graph().add_explicit(OpKind::expand, {v.id()}, Shape{3, 3}, DType::f32, a, "e"));
  };
  SECTION("expanded along axis 1: v runs down the columns, which a broadcast cannot do") {
    b.set_loss(sum(mul(x, expand_along(1)), std::nullopt, "loss"));
    backward_fused(b.graph(), stats);
    CHECK(stats.count_of("expand_broadcast") == 0);
  }
  SECTION("div broadcasts only a scalar") {
    b.set_loss(sum(div(x, expand_along(0)), std::nullopt, "loss"));
    backward_fused(b.graph(), stats);
    CHECK(stats.count_of("expand_broadcast") == 0);
  }
  SECTION("sub is not commutative") {
    b.set_loss(sum(sub(expand_along(0), x), std::nullopt, "loss"));
    backward_fused(b.graph(), stats);
    CHECK(stats.count_of("expand_broadcast") == 0);
  }
  SECTION("the expanded value is read twice") {
    auto e = expand_along(0);
    b.set_loss(sum(add(mul(x, e), e), std::nullopt, "loss"));
    backward_fused(b.graph(), stats);
    CHECK(stats.count_of("expand_broadcast") == 0);
  }
}

TEST_CASE("affine gradients: one column sum for the bias, matmuls with transpose flags for x and W",
          "[fuse_backward]") {
  // A transpose exists only as matmul flags; there is no op to materialise one.
  CHECK_FALSE(find_op("transpose"));
  Builder b;
  auto x = b.param("x", {4, 3});
  auto y = b.labels("y", 4, 5);
  b.set_loss(softmax_cross_entropy(relu(dense(b, x, 6, "fc1"), "h"), y, "loss"));
  for (bool fuse : {true, false}) {
    INFO("fused: " << fuse);
    PassStats s1, s2, s3;
    Graph g = b.graph();
    if (fuse) g = fuse_forward(g, s1);
    g = simplify(fuse_backward(autodiff(g), s2), s3);
    verify(g);
    // Whatever produced dy (relu_grad in both plans), the bias gradient is
    // one sum over axis 0 reading it directly.
    NodeId db = *g.gradient_of(g.at("fc1/b"));
    CHECK(g[db].op == OpKind::sum);
    CHECK(g[db].attrs.axis == 0);
    NodeId dy = g.inputs(db)[0];
    CHECK(g[dy].op == OpKind::relu_grad);
    // dW = xᵀ·dy and dx = dy·Wᵀ read the stored x, W and dy.
    NodeId dw = *g.gradient_of(g.at("fc1/W"));
    CHECK(g[dw].op == OpKind::matmul);
    CHECK(g[dw].attrs.transpose_a);
    CHECK_FALSE(g[dw].attrs.transpose_b);
    CHECK(g.inputs(dw) == std::vector<NodeId>{g.at("x"), dy});
    NodeId dx = *g.gradient_of(g.at("x"));
    CHECK(g[dx].op == OpKind::matmul);
    CHECK_FALSE(g[dx].attrs.transpose_a);
    CHECK(g[dx].attrs.transpose_b);
    CHECK(g.inputs(dx) == std::vector<NodeId>{dy, g.at("fc1/W")});
  }
}

TEST_CASE("the seed models' bias gradients stay single column sums after every pass", "[fuse_backward][models]") {
  for (const auto& m : testing::seed_models()) {
    INFO(m.name);
    PassStats s1, s2, s3;
    Graph g = simplify(fuse_backward(autodiff(fuse_forward(testing::build_seed(m), s1)), s2), s3);
    verify(g);
    for (std::size_t layer = 1; layer <= m.hidden.size() + 1; ++layer) {
      std::string name = "fc" + std::to_string(layer);
      NodeId db = *g.gradient_of(g.at(name + "/b"));
      CHECK(g[db].op == OpKind::sum);
      CHECK(g[db].attrs.axis == 0);
      NodeId dw = *g.gradient_of(g.at(name + "/W"));
      // With weight decay dW is λ·W + xᵀ·dy, an add_n of a scale and the product.
      if (g[dw].op == OpKind::add_n) {
        auto terms = g.inputs(dw);
        REQUIRE(terms.size() == 2);
        if (g[terms[0]].op != OpKind::scale) std::swap(terms[0], terms[1]);
        CHECK(g[terms[0]].op == OpKind::scale);
        dw = terms[1];
      }
      CHECK(g[dw].op == OpKind::matmul);
      CHECK(g[dw].attrs.transpose_a);
      CHECK(g.inputs(dw)[1] == g.inputs(db)[0]);
    }
  }
}

TEST_CASE("softmax_cross_entropy_with_grad: the loss and its seeded gradient become one two-output node",
          "[fuse_backward][multi_output]") {
  for (const auto& m : testing::seed_models()) {
    INFO(m.name);
    PassStats s1, s2;
    Graph before = autodiff(fuse_forward(testing::build_seed(m), s1));
    NodeId xent = *before.find(m.weight_decay > 0 ? "xent" : "loss");
    NodeId grad = before.consumers(before.inputs(xent)[0]).back();
    REQUIRE(before[grad].op == OpKind::softmax_cross_entropy_grad);
    const std::string seed_name = before[before.inputs(grad)[2]].name;
    Graph g = backward_fused(before, s2);
    CHECK(s2.count_of("softmax_cross_entropy_with_grad") == 1);
    CHECK(count_op(g, OpKind::softmax_cross_entropy) == 0);
    CHECK(count_op(g, OpKind::softmax_cross_entropy_grad) == 0);
    // Both keep their names: the fused node is the loss's, the get_output the gradient's.
    NodeId fused = g.at(before[xent].name);
    REQUIRE(g[fused].op == OpKind::softmax_cross_entropy_with_grad);
    CHECK(input_names(g, fused) == input_names(before, xent));
    REQUIRE(g[fused].extra_outputs.size() == 1);
    CHECK(g[fused].extra_outputs[0].shape == before[grad].shape);
    NodeId dz = g.at(before[grad].name);
    CHECK(g[dz].op == OpKind::get_output);
    CHECK(g[dz].attrs.index == 1);
    CHECK(g.inputs(dz) == std::vector<NodeId>{fused});
    CHECK(g.projection(fused, 1) == dz);
    CHECK(g[dz].shape == before[grad].shape);
    CHECK(g[dz].role == Role::backward);
    CHECK(g[fused].role == Role::forward);
    // The seed has no reader left unless the loss is a sum (xent + λ·l2),
    // whose other term reads it too.
    CHECK(g.find(seed_name).has_value() == (m.weight_decay > 0));
    if (m.weight_decay == 0) CHECK(g.loss() == fused);
  }
}

TEST_CASE("softmax_cross_entropy_with_grad: not when the incoming gradient is not the constant 1",
          "[fuse_backward][multi_output]") {
  SECTION("a scaled loss") {
    Builder b;
    auto z = b.param("z", {4, 3});
    auto y = b.labels("y", 4, 3);
    b.set_loss(scale(softmax_cross_entropy(z, y, "xent"), 0.5, "loss"));
    PassStats stats;
    Graph g = backward_fused(autodiff(b.graph()), stats);
    CHECK(stats.count_of("softmax_cross_entropy_with_grad") == 0);
    CHECK(count_op(g, OpKind::softmax_cross_entropy_grad) == 1);
  }
  SECTION("a hand-made gradient node reading another incoming gradient") {
    Builder b;
    auto z = b.input("z", {4, 3});
    auto y = b.labels("y", 4, 3);
    auto d = b.input("d", {});
    auto loss = softmax_cross_entropy(z, y, "loss");
    b.op(OpKind::softmax_cross_entropy_grad, {z, y, d}, {}, "dz");
    b.set_loss(loss);
    PassStats stats;
    backward_fused(b.graph(), stats);
    CHECK(stats.count_of("softmax_cross_entropy_with_grad") == 0);
  }
  SECTION("another loss over the same logits") {
    Builder b;
    auto z = b.input("z", {4, 3});
    auto y = b.labels("y", 4, 3);
    auto other = b.labels("other", 4, 3);
    auto seed = b.constant("one", {}, {1.0});
    b.set_loss(softmax_cross_entropy(z, y, "loss"));
    b.op(OpKind::softmax_cross_entropy_grad, {z, other, seed}, {}, "dz");
    PassStats stats;
    backward_fused(b.graph(), stats);
    CHECK(stats.count_of("softmax_cross_entropy_with_grad") == 0);
  }
}
