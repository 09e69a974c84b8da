#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "frontends/builder.hpp"
#include "graph/error.hpp"
#include "runtime/executor.hpp"
#include "tests/runtime/harness.hpp"

using namespace kiln;
using kiln::test::random_tensor;

namespace {

// x [4, 3] → affine(W1 [3, 5], b1) → relu → matmul W2 [5, 2] + b2 → softmax xent
Graph small_mlp(DType dt) {
  Builder g;
  auto x = g.input("x", {4, 3}, dt);
  auto y = g.labels("y", 4, 2);
  auto w1 = g.param("W1", {3, 5}, Init::normal(0.5), dt);
  auto b1 = g.param("b1", {5}, Init::uniform(-0.1, 0.1), dt);
  auto w2 = g.param("W2", {5, 2}, Init::xavier(), dt);
  auto b2 = g.param("b2", {2}, Init::constant(0.05), dt);
  auto h = relu(affine(x, w1, b1, "fc1"), "h");
  auto logits = add(matmul(h, w2, false, false, "fc2"), b2, "logits");
  g.set_loss(softmax_cross_entropy(logits, y, "loss"));
  return g.graph();
}

// The same forward pass written out with loops.
double mlp_reference(const Executor& ex, const Tensor& x, const std::vector<int>& labels) {
  const Tensor &w1 = ex.value("W1"), &b1 = ex.value("b1"), &w2 = ex.value("W2"), &b2 = ex.value("b2");
  double loss = 0;
  for (int r = 0; r < 4; ++r) {
    double h[5], z[2];
    for (int j = 0; j < 5; ++j) {
      double s = b1.get(j);
      for (int k = 0; k < 3; ++k) s += x.get(r * 3 + k) * w1.get(k * 5 + j);
      h[j] = s > 0 ? s : 0;
    }
    for (int j = 0; j < 2; ++j) {
      z[j] = b2.get(j);
      for (int k = 0; k < 5; ++k) z[j] += h[k] * w2.get(k * 2 + j);
    }
    double lse = std::log(std::exp(z[0]) + std::exp(z[1]));
    loss += lse - z[labels[r]];
  }
  return loss / 4;
}

}  // namespace

TEST_CASE("the executor runs a small MLP and its loss matches a hand-written forward pass", "[runtime][executor]") {
  std::mt19937 rng(20);
  for (DType dt : {DType::f32, DType::f64}) {
    Executor ex(small_mlp(dt), 5);
    Tensor x = random_tensor(Shape{4, 3}, dt, rng);
    std::vector<int> labels = {0, 1, 1, 0};
    Tensor y = Tensor::from_values(Shape{4}, DType::i32, {0, 1, 1, 0});
    double loss = ex.step({{"x", x}, {"y", y}});
    CHECK(loss == Approx(mlp_reference(ex, x, labels)).epsilon(dt == DType::f32 ? 1e-5 : 1e-12));
    CHECK(ex.value("loss").get(0) == loss);
    const double b2 = dt == DType::f32 ? double(0.05f) : 0.05;  // constant init, stored in the dtype
    CHECK(ex.value("b2").values() == std::vector<double>{b2, b2});
    CHECK(ex.value(ex.graph().at("h")).shape() == Shape{4, 5});
  }
}

TEST_CASE("the executor's params are seeded and can be replaced by feeding them", "[runtime][executor]") {
  Graph g = small_mlp(DType::f32);
  Executor a(g, 1), b(g, 1), c(g, 2);
  CHECK(a.value("W1").values() == b.value("W1").values());
  CHECK(a.value("W1").values() != c.value("W1").values());
  Tensor w = Tensor::from_values(Shape{3, 5}, DType::f32, std::vector<double>(15, 0.5));
  a.feed("W1", w);
  CHECK(a.params().get("W1").values() == w.values());
  CHECK(a.value("W1").values() == w.values());
}

TEST_CASE("a fed constant overrides its attribute", "[runtime][executor]") {
  Builder g;
  auto x = g.input("x", {3});
  auto k = g.constant("k", {3}, {1, 2, 3});
  mul(x, k, "y");
  Executor ex(g.graph());
  ex.feed("x", Tensor::from_values(Shape{3}, DType::f32, {2, 2, 2}));
  ex.run();
  CHECK(ex.value("y").values() == std::vector<double>{2, 4, 6});
  ex.feed("k", Tensor::from_values(Shape{3}, DType::f32, {-1, 0, 1}));
  ex.run();
  CHECK(ex.value("y").values() == std::vector<double>{-2, 0, 2});
}

TEST_CASE("running with unfed inputs names every one of them", "[runtime][executor]") {
  Executor ex(small_mlp(DType::f32));
  CHECK_THROWS_WITH(ex.run(), Catch::Contains("'x'") && Catch::Contains("'y'"));
  ex.feed("x", Tensor(Shape{4, 3}, DType::f32));
  CHECK_THROWS_WITH(ex.run(), Catch::Contains("'y'") && !Catch::Contains("'x'"));
}

TEST_CASE("feeding checks the node, the shape, the dtype and the label range", "[runtime][executor]") {
  Executor ex(small_mlp(DType::f32));
  CHECK_THROWS_WITH(ex.feed("x", Tensor(Shape{4, 4}, DType::f32)),
                    Catch::Contains("'x'") && Catch::Contains("f32 [4, 3]") && Catch::Contains("f32 [4, 4]"));
  CHECK_THROWS_WITH(ex.feed("x", Tensor(Shape{4, 3}, DType::f64)), Catch::Contains("found f64 [4, 3]"));
  CHECK_THROWS_WITH(ex.feed("y", Tensor::from_values(Shape{4}, DType::i32, {0, 1, 2, 0})),
                    Catch::Contains("'y'") && Catch::Contains("row 2") && Catch::Contains("[0, 2)"));
  CHECK_THROWS_WITH(ex.feed("y", Tensor::from_values(Shape{4}, DType::i32, {0, -1, 0, 0})),
                    Catch::Contains("row 1"));
  CHECK_THROWS_WITH(ex.feed("y", Tensor(Shape{4}, DType::f32)), Catch::Contains("i32 [4]"));
  CHECK_THROWS_WITH(ex.feed("h", Tensor(Shape{4, 5}, DType::f32)),
                    Catch::Contains("'h'") && Catch::Contains("only input, labels, param and constant"));
  CHECK_THROWS_WITH(ex.feed("missing", Tensor()), Catch::Contains("'missing'"));
  CHECK_THROWS_WITH(ex.feed("W1", Tensor(Shape{5, 3}, DType::f32)),
                    Catch::Contains("'W1'") && Catch::Contains("[3, 5]"));
  CHECK_THROWS_WITH(ex.value("nothing"), Catch::Contains("'nothing'"));
}

TEST_CASE("step needs a loss", "[runtime][executor]") {
  Builder g;
  auto x = g.input("x", {2});
  relu(x, "r");
  Executor ex(g.graph());
  CHECK_THROWS_WITH(ex.step({{"x", Tensor(Shape{2}, DType::f32)}}), Catch::Contains("no"));
  ex.feed("x", Tensor::from_values(Shape{2}, DType::f32, {-1, 3}));
  ex.run();
  CHECK(ex.value("r").values() == std::vector<double>{0, 3});
}

TEST_CASE("the executor runs backward helpers as an autodiff-made graph would use them", "[runtime][executor]") {
  // loss = mean over rows of softmax_xent(x·W); dW = xᵀ·dz with dz from the
  // fused gradient, written as graph nodes and checked by finite differences.
  Builder b;
  auto x = b.input("x", {3, 4}, DType::f64);
  auto y = b.labels("y", 3, 5);
  auto w = b.param("W", {4, 5}, Init::normal(1.0), DType::f64);
  auto z = matmul(x, w, false, false, "z");
  auto loss = softmax_cross_entropy(z, y, "loss");
  b.set_loss(loss);
  auto one = b.constant("one", {}, {1.0}, DType::f64);
  auto dz = b.op(OpKind::softmax_cross_entropy_grad, {z, y, one}, {}, "dz");
  Attrs t;
  t.transpose_a = true;
  b.op(OpKind::matmul, {x, dz}, t, "dW");
  std::mt19937 rng(21);
  Tensor xv = random_tensor(Shape{3, 4}, DType::f64, rng);
  Tensor yv = Tensor::from_values(Shape{3}, DType::i32, {4, 0, 2});
  Executor ex(b.graph(), 3);
  ex.step({{"x", xv}, {"y", yv}});
  Tensor dw = ex.value("dW");
  Tensor w0 = ex.value("W");
  for (std::size_t i = 0; i < w0.numel(); ++i) {
    Tensor wp = w0, wm = w0;
    wp.set(i, w0.get(i) + 1e-6);
    wm.set(i, w0.get(i) - 1e-6);
    ex.feed("W", wp);
    double fp = ex.step({});
    ex.feed("W", wm);
    double fm = ex.step({});
    CHECK(dw.get(i) == Approx((fp - fm) / 2e-6).epsilon(1e-6).margin(1e-9));
  }
}
