// The gradient check generated from the op table: every op with a gradient
// rule must have cases here, and for each case central finite differences in
// f64 must agree with the symbolic gradient from autodiff.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "passes/autodiff.hpp"
#include "passes/gradient_rules.hpp"
#include "runtime/executor.hpp"
#include "tests/passes/gradcheck.hpp"

using namespace kiln;
using namespace kiln::testing;

namespace {

// Builds the op under test from params made with `p`; returns its output.
using CaseBody = std::function<Value(CaseBuilder&)>;

struct GradCase {
  std::string label;
  CaseBody body;
};

Attrs axis(int a) {
  Attrs attrs;
  attrs.axis = a;
  return attrs;
}

// Every op with a gradient rule, mapped to its cases: shapes with size-1
// dims, broadcast bias and scalars, every transpose combination, axes.
std::map<OpKind, std::vector<GradCase>> grad_cases() {
  std::map<OpKind, std::vector<GradCase>> c;
  auto binary = [&](OpKind op, const char* label, Shape a, Shape b, Domain db = Domain::any()) {
    c[op].push_back({label, [=](CaseBuilder& p) {
                       return p.b.op(op, {p.param("a", a), p.param("b", b, db)});
                     }});
  };
  for (OpKind op : {OpKind::add, OpKind::sub, OpKind::mul}) {
    binary(op, "same shape", {3, 4}, {3, 4});
    binary(op, "bias over rows", {3, 4}, {4});
    binary(op, "scalar", {3, 4}, {});
    binary(op, "size-1 rows", {1, 4}, {4});
    binary(op, "rank-3 with a trailing matrix", {2, 3, 4}, {3, 4});
    binary(op, "rank-3 with a trailing vector", {2, 3, 4}, {4});
  }
  binary(OpKind::div, "same shape", {3, 4}, {3, 4}, Domain::away_from_zero());
  binary(OpKind::div, "scalar divisor", {3, 4}, {}, Domain::away_from_zero());

  auto unary = [&](OpKind op, Domain d, Attrs attrs = {}) {
    for (Shape s : {Shape{3, 4}, Shape{1, 5}, Shape{6}}) {
      c[op].push_back({s.str(), [=](CaseBuilder& p) { return p.b.op(op, {p.param("x", s, d)}, attrs); }});
    }
  };
  unary(OpKind::neg, Domain::any());
  Attrs f;
  f.factor = -2.5;
  unary(OpKind::scale, Domain::any(), f);
  unary(OpKind::relu, Domain::away_from_zero());
  unary(OpKind::sigmoid, Domain::any());
  unary(OpKind::tanh, Domain::any());
  unary(OpKind::exp, Domain::any());
  unary(OpKind::log, Domain::positive());
  unary(OpKind::square, Domain::any());
  unary(OpKind::l2, Domain::any());

  for (OpKind op : {OpKind::sum, OpKind::mean}) {
    c[op].push_back({"all axes", [=](CaseBuilder& p) { return p.b.op(op, {p.param("x", {3, 4})}); }});
    for (int a : {0, 1, -1})
      c[op].push_back({"axis " + std::to_string(a) + " of rank 3",
                       [=](CaseBuilder& p) { return p.b.op(op, {p.param("x", {2, 3, 4})}, axis(a)); }});
    c[op].push_back({"size-1 axis", [=](CaseBuilder& p) { return p.b.op(op, {p.param("x", {1, 4})}, axis(0)); }});
  }

  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [m, k, n] : {std::tuple{3, 4, 5}, std::tuple{1, 4, 2}, std::tuple{3, 1, 2}}) {
        Shape a = ta ? Shape{k, m} : Shape{m, k};
        Shape b = tb ? Shape{n, k} : Shape{k, n};
        c[OpKind::matmul].push_back(
            {"ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) + " " + a.str() + "x" + b.str(),
             [=](CaseBuilder& p) { return matmul(p.param("a", a), p.param("b", b), ta, tb); }});
      }
  c[OpKind::dot].push_back({"[5]", [](CaseBuilder& p) { return dot(p.param("a", {5}), p.param("b", {5})); }});
  c[OpKind::dot].push_back({"[1]", [](CaseBuilder& p) { return dot(p.param("a", {1}), p.param("b", {1})); }});

  for (OpKind op : {OpKind::softmax, OpKind::log_softmax}) {
    c[op].push_back({"last axis", [=](CaseBuilder& p) { return p.b.op(op, {p.param("z", {3, 4})}); }});
    c[op].push_back({"axis 0", [=](CaseBuilder& p) { return p.b.op(op, {p.param("z", {3, 4})}, axis(0)); }});
    c[op].push_back({"rank 3 middle axis",
                     [=](CaseBuilder& p) { return p.b.op(op, {p.param("z", {2, 3, 2})}, axis(1)); }});
  }

  c[OpKind::cross_entropy].push_back({"labels", [](CaseBuilder& p) {
    return cross_entropy(p.param("p", {4, 3}, Domain::probability()), p.labels("y", 4, 3));
  }});
  c[OpKind::cross_entropy].push_back({"one-hot", [](CaseBuilder& p) {
    return cross_entropy(p.param("p", {4, 3}, Domain::probability()), p.one_hot("t", 4, 3));
  }});
  c[OpKind::softmax_cross_entropy].push_back(
      {"labels", [](CaseBuilder& p) { return softmax_cross_entropy(p.param("z", {5, 3}), p.labels("y", 5, 3)); }});
  c[OpKind::softmax_cross_entropy].push_back(
      {"one-hot", [](CaseBuilder& p) { return softmax_cross_entropy(p.param("z", {5, 3}), p.one_hot("t", 5, 3)); }});
  c[OpKind::softmax_cross_entropy].push_back(
      {"one row", [](CaseBuilder& p) { return softmax_cross_entropy(p.param("z", {1, 4}), p.labels("y", 1, 4)); }});

  c[OpKind::affine].push_back({"[3,4]x[4,5]+[5]", [](CaseBuilder& p) {
    return affine(p.param("x", {3, 4}), p.param("W", {4, 5}), p.param("b", {5}));
  }});
  c[OpKind::affine].push_back({"one row", [](CaseBuilder& p) {
    return affine(p.param("x", {1, 4}), p.param("W", {4, 1}), p.param("b", {1}));
  }});
  c[OpKind::affine_relu].push_back({"[3,4]x[4,5]+[5]", [](CaseBuilder& p) {
    return affine_relu(p.param("x", {3, 4}), p.param("W", {4, 5}), p.param("b", {5}));
  }});

  c[OpKind::add_n].push_back({"three inputs", [](CaseBuilder& p) {
    return p.b.op(OpKind::add_n, {p.param("a", {2, 3}), p.param("b", {2, 3}), p.param("c", {2, 3})});
  }});
  c[OpKind::add_n].push_back({"one input", [](CaseBuilder& p) { return p.b.op(OpKind::add_n, {p.param("a", {4})}); }});
  c[OpKind::expand].push_back({"from a scalar", [](CaseBuilder& p) { return p.expand(p.param("s", {}), {2, 3}, {}); }});
  c[OpKind::expand].push_back({"along axis 1", [](CaseBuilder& p) { return p.expand(p.param("v", {3}), {3, 4}, 1); }});
  c[OpKind::expand].push_back({"along axis 0", [](CaseBuilder& p) { return p.expand(p.param("v", {4}), {2, 4}, 0); }});
  return c;
}

// Ops made after autodiff that compute a loss (output 0) and its gradient
// with respect to operand 0 (output 1) in one kernel: each is checked by
// finite differences of its own output 0. A case gives the logits' shape and
// the targets' form.
struct LossWithGradCase {
  std::string label;
  Shape logits;
  bool one_hot;
};

std::map<OpKind, std::vector<LossWithGradCase>> loss_with_grad_cases() {
  std::map<OpKind, std::vector<LossWithGradCase>> c;
  c[OpKind::softmax_cross_entropy_with_grad] = {
      {"labels", {5, 3}, false}, {"one-hot", {5, 3}, true}, {"one row", {1, 4}, false}, {"one class", {3, 1}, false}};
  return c;
}

// The worst relative error of output 1 against central differences of
// output 0 over every logit, in f64 through the reference Executor.
double worst_loss_with_grad_error(OpKind op, const LossWithGradCase& lc, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  const std::int64_t rows = lc.logits[0], classes = lc.logits[1];
  Graph g;
  NodeId z = g.add_explicit(OpKind::input, {}, lc.logits, DType::f64, {}, "z");
  Attrs la;
  la.classes = classes;
  NodeId t = lc.one_hot ? g.add_explicit(OpKind::input, {}, lc.logits, DType::f64, {}, "t")
                        : g.add_explicit(OpKind::labels, {}, Shape{rows}, DType::i32, la, "t");
  NodeId out = g.add(op, {z, t}, {}, "out");
  g.add(OpKind::get_output, {out}, {}, "dz");
  Tensor zv(lc.logits, DType::f64), tv = lc.one_hot ? Tensor(lc.logits, DType::f64) : Tensor(Shape{rows}, DType::i32);
  for (std::size_t i = 0; i < zv.numel(); ++i) zv.set(i, u(rng));
  for (std::int64_t r = 0; r < rows; ++r) {
    auto label = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(classes));
    if (lc.one_hot) tv.set(static_cast<std::size_t>(r * classes + label), 1.0);
    else tv.set(static_cast<std::size_t>(r), static_cast<double>(label));
  }
  Executor ex(g);
  ex.feed("t", tv);
  auto loss_at = [&](const Tensor& at) {
    ex.feed("z", at);
    ex.run();
    return ex.value("out").get(0);
  };
  loss_at(zv);
  const std::vector<double> symbolic = ex.value("dz").values();
  const double h = 1e-5;
  double worst = 0.0;
  for (std::size_t i = 0; i < zv.numel(); ++i) {
    Tensor plus = zv, minus = zv;
    plus.set(i, zv.get(i) + h);
    minus.set(i, zv.get(i) - h);
    const double fd = (loss_at(plus) - loss_at(minus)) / (2 * h);
    worst = std::max(worst, std::abs(symbolic[i] - fd) / std::max({std::abs(symbolic[i]), std::abs(fd), 1e-3}));
  }
  return worst;
}

}  // namespace

TEST_CASE("every op with a gradient rule has gradient-check cases", "[gradcheck]") {
  auto cases = grad_cases();
  auto with_grad = loss_with_grad_cases();
  for (std::size_t i = 0; i < kOpCount; ++i) {
    auto op = static_cast<OpKind>(i);
    INFO("op " << op_name(op));
    if (has_gradient_rule(op)) {
      CHECK(cases.count(op) == 1);
    } else if (with_grad.count(op)) {
      // Made after autodiff, with its own gradient as an output: checked below.
      CHECK(op_info(op).category == Category::fused);
    } else {
      // Ops without a rule are leaves, backward helpers, updates, the
      // get_output projection or the data-parallel reduction; a new forward
      // op must come with a rule.
      Category c = op_info(op).category;
      CHECK((c == Category::leaf || c == Category::gradient || c == Category::update ||
             c == Category::projection || c == Category::collective));
      CHECK(cases.count(op) == 0);
    }
  }
}

TEST_CASE("symbolic gradients agree with central finite differences in f64", "[gradcheck]") {
  std::size_t checked = 0;
  for (auto& [op, list] : grad_cases()) {
    for (const GradCase& gc : list) {
      INFO("op " << op_name(op) << ", case " << gc.label);
      CaseBuilder p(/*seed=*/1000 + checked);
      Value out = gc.body(p);
      p.finish_with_loss(out);
      GradCheckResult r = check_gradients(p);
      CHECK(r.worst_relative_error <= 1e-6);
      INFO("worst at " << r.worst_where);
      CHECK(r.elements_checked > 0);
      ++checked;
    }
  }
  CHECK(checked >= 90);
}

TEST_CASE("a loss's gradient output agrees with central finite differences of its loss output in f64",
          "[gradcheck][multi_output]") {
  std::uint64_t seed = 3000;
  std::size_t checked = 0;
  for (auto& [op, list] : loss_with_grad_cases())
    for (const LossWithGradCase& lc : list) {
      INFO("op " << op_name(op) << ", case " << lc.label);
      CHECK(worst_loss_with_grad_error(op, lc, seed++) <= 1e-6);
      ++checked;
    }
  CHECK(checked >= 4);
}
