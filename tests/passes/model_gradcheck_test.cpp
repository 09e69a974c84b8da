// Whole seed models in f64: autodiff against finite differences, and values
// reaching the loss through several paths.
#include <catch2/catch.hpp>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "passes/autodiff.hpp"
#include "runtime/executor.hpp"
#include "tests/passes/gradcheck.hpp"

using namespace kiln;
using namespace kiln::testing;

namespace {

std::vector<std::string> params_of(const Graph& g) {
  std::vector<std::string> out;
  for (NodeId v : g.ids())
    if (g[v].op == OpKind::param) out.push_back(g[v].name);
  return out;
}

// Seeded inputs and labels for a model's x [rows, features] and y [rows].
void feed_data(CaseBuilder& c, std::int64_t rows, std::int64_t features, std::int64_t classes) {
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> x(static_cast<std::size_t>(rows * features)), y(static_cast<std::size_t>(rows));
  for (double& v : x) v = u(rng);
  for (double& v : y) v = static_cast<double>(rng() % static_cast<std::uint64_t>(classes));
  c.feeds.emplace_back("x", Tensor::from_values(Shape{rows, features}, DType::f64, x));
  c.feeds.emplace_back("y", Tensor::from_values(Shape{rows}, DType::i32, y));
}

Value mlp_tail(Builder& g, Value x, const std::vector<std::int64_t>& hidden, std::int64_t classes, Init w) {
  Value h = x;
  for (std::size_t i = 0; i < hidden.size(); ++i)
    h = relu(dense(g, h, hidden[i], "fc" + std::to_string(i + 1), w));
  return dense(g, h, classes, "out", w);
}

}  // namespace

TEST_CASE("seed models: autodiff agrees with finite differences in f64", "[gradcheck][models]") {
  struct Model {
    const char* name;
    std::int64_t rows, features, classes;
    std::vector<std::int64_t> hidden;
    double l2;
    Init init;
  };
  // Small batches keep the check fast; the layer sizes are the seeds'.
  std::vector<Model> models = {
      {"logreg 64-10", 6, 64, 10, {}, 0.0, Init::normal(0.1)},
      {"mlp 784-100-200-10", 3, 784, 10, {100, 200}, 0.0, Init::normal(0.05)},
      {"spiral 2-100-3 with L2", 12, 2, 3, {100}, 1e-3, Init::normal(0.5)},
      {"moons 2-264-2-2", 10, 2, 2, {264, 2}, 0.0, Init::he()},
  };
  for (const Model& m : models) {
    INFO(m.name);
    CaseBuilder c(1);
    Builder& g = c.b;
    Value x = g.input("x", {m.rows, m.features}, DType::f64);
    Value y = g.labels("y", m.rows, m.classes);
    Value loss = softmax_cross_entropy(mlp_tail(g, x, m.hidden, m.classes, m.init), y, "xent");
    if (m.l2 > 0) {
      Value penalty = l2(Value(&g, g.graph().at("fc1/W")));
      penalty = add(penalty, l2(Value(&g, g.graph().at("out/W"))));
      loss = add(loss, scale(penalty, m.l2), "loss");
    }
    g.set_loss(loss);
    feed_data(c, m.rows, m.features, m.classes);
    GradCheckResult r = check_gradients(g.graph(), c.feeds, params_of(g.graph()), /*max_elements=*/24);
    INFO("worst at " << r.worst_where);
    CHECK(r.worst_relative_error <= 1e-6);
    CHECK(r.elements_checked >= 24);
  }
}

TEST_CASE("values reaching the loss through several paths get the summed gradient", "[gradcheck]") {
  SECTION("x*x + x: d/dx = 2x + 1") {
    Builder b;
    Value x = b.param("x", {3}, Init::zeros(), DType::f64);
    b.set_loss(sum(add(mul(x, x), x), std::nullopt, "loss"));
    Graph g = autodiff(b.graph());
    Executor ex(g);
    ex.feed("x", Tensor::from_values(Shape{3}, DType::f64, {1.0, -2.0, 0.5}));
    ex.run();
    const Tensor& gx = ex.value(*g.gradient_of(g.at("x")));
    CHECK(gx.get(0) == Approx(3.0));
    CHECK(gx.get(1) == Approx(-3.0));
    CHECK(gx.get(2) == Approx(2.0));
  }
  SECTION("a weight used twice") {
    CaseBuilder c(5);
    Value x = c.param("x", {2, 3});
    Value w = c.param("W", {3, 3});
    c.finish_with_loss(matmul(matmul(x, w), w));
    GradCheckResult r = check_gradients(c);
    INFO("worst at " << r.worst_where);
    CHECK(r.worst_relative_error <= 1e-6);
  }
}

TEST_CASE("softmax_cross_entropy of logits at ±1000 has a finite, exact loss and gradient", "[gradcheck]") {
  Builder b;
  Value z = b.param("z", {2, 3}, Init::zeros(), DType::f64);
  Value y = b.labels("y", 2, 3);
  b.set_loss(softmax_cross_entropy(z, y, "loss"));
  Graph g = autodiff(b.graph());
  Executor ex(g);
  ex.feed("z", Tensor::from_values(Shape{2, 3}, DType::f64, {1000, -1000, 0, -1000, 1000, 1000}));
  ex.feed("y", Tensor::from_values(Shape{2}, DType::i32, {1, 2}));
  ex.run();
  // Row 0: the label's logit is 2000 below the max: loss 2000. Row 1: two
  // equal maxima, the label is one of them: loss log 2. Mean over rows.
  double loss = ex.value("loss").get(0);
  CHECK(std::isfinite(loss));
  CHECK(loss == Approx((2000.0 + std::log(2.0)) / 2));
  const Tensor& dz = ex.value(*g.gradient_of(g.at("z")));
  std::vector<double> expected = {0.5, -0.5, 0.0, 0.0, 0.25, -0.25};
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(dz.get(i) == Approx(expected[i]).margin(1e-12));
}
