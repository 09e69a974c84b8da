// The optimizer-update pass: nodes and names, and the updates it runs against
// an independent f64 implementation of SGD, momentum and Adam (PyTorch's
// formulas) driven by gradients from the plain backward graph.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "graph/error.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "passes/optimizer.hpp"
#include "runtime/executor.hpp"

using namespace kiln;

namespace {

Graph small_model() {
  Builder g;
  auto x = g.input("x", {4, 3}, DType::f64);
  auto y = g.labels("y", 4, 2);
  auto h = tanh(dense(g, x, 5, "fc1", Init::normal(0.5)));
  g.set_loss(softmax_cross_entropy(dense(g, h, 2, "fc2", Init::normal(0.5)), y, "loss"));
  return g.graph();
}

std::vector<std::pair<std::string, Tensor>> batch(int step) {
  std::vector<double> x(12), y(4);
  for (int i = 0; i < 12; ++i) x[i] = std::sin(1.7 * i + step);
  for (int i = 0; i < 4; ++i) y[i] = (i + step) % 2;
  return {{"x", Tensor::from_values(Shape{4, 3}, DType::f64, x)}, {"y", Tensor::from_values(Shape{4}, DType::i32, y)}};
}

// PyTorch's update rules, written out independently of the kernels.
struct ReferenceOptimizer {
  OptimizerOptions o;
  std::map<std::string, std::vector<double>> v, m, s;
  int t = 0;

  void begin_step() { ++t; }
  void apply(const std::string& name, std::vector<double>& p, const std::vector<double>& grad) {
    auto& vel = v[name];
    auto& m1 = m[name];
    auto& m2 = s[name];
    vel.resize(p.size());
    m1.resize(p.size());
    m2.resize(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      double g = grad[i] + o.weight_decay * p[i];
      switch (o.kind) {
        case OptimizerOptions::Kind::sgd: p[i] -= o.lr * g; break;
        case OptimizerOptions::Kind::momentum:
          vel[i] = o.momentum * vel[i] + g;
          p[i] -= o.lr * vel[i];
          break;
        case OptimizerOptions::Kind::adam: {
          m1[i] = o.beta1 * m1[i] + (1 - o.beta1) * g;
          m2[i] = o.beta2 * m2[i] + (1 - o.beta2) * g * g;
          double mhat = m1[i] / (1 - std::pow(o.beta1, t)), vhat = m2[i] / (1 - std::pow(o.beta2, t));
          p[i] -= o.lr * mhat / (std::sqrt(vhat) + o.eps);
          break;
        }
      }
    }
  }
};

std::vector<double> values_of(const Tensor& t) {
  std::vector<double> out(t.numel());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = t.get(i);
  return out;
}

}  // namespace

TEST_CASE("append_optimizer adds one named update per param and keeps state in params", "[optimizer]") {
  Graph g = autodiff(small_model());
  OptimizerOptions o;
  o.kind = OptimizerOptions::Kind::adam;
  Graph u = append_optimizer(g, o);
  verify(u);
  for (const char* p : {"fc1/W", "fc1/b", "fc2/W", "fc2/b"}) {
    INFO(p);
    const Node& upd = u[u.at(std::string("update/") + p)];
    CHECK(upd.op == OpKind::adam_update);
    CHECK(upd.role == Role::update);
    CHECK(u[u.at(std::string("opt/") + p + "/m")].op == OpKind::param);
    CHECK(u[u.at(std::string("opt/") + p + "/v")].op == OpKind::param);
  }
  CHECK(u[u.at("update/step")].op == OpKind::step_count);

  o.kind = OptimizerOptions::Kind::momentum;
  Graph mom = append_optimizer(g, o);
  CHECK(mom[mom.at("update/fc1/W/velocity")].op == OpKind::momentum_update);
  CHECK(mom[mom.at("update/fc1/W")].op == OpKind::sgd_update);
}

TEST_CASE("optimizer steps match PyTorch's formulas over several steps (f64)", "[optimizer]") {
  using Kind = OptimizerOptions::Kind;
  for (Kind kind : {Kind::sgd, Kind::momentum, Kind::adam}) {
    for (double wd : {0.0, 0.01}) {
      INFO(optimizer_name(kind) << " weight decay " << wd);
      OptimizerOptions o;
      o.kind = kind;
      o.lr = kind == Kind::adam ? 0.05 : 0.3;
      o.momentum = 0.8;
      o.weight_decay = wd;
      Graph backward = autodiff(small_model());
      Executor trained(append_optimizer(backward, o), 3);
      Executor grads(backward, 3);
      ReferenceOptimizer ref{o};
      std::map<std::string, std::vector<double>> params;
      for (const char* p : {"fc1/W", "fc1/b", "fc2/W", "fc2/b"}) params[p] = values_of(trained.value(p));

      for (int step = 0; step < 6; ++step) {
        for (auto& [name, v] : params) grads.feed(name, Tensor::from_values(grads.value(name).shape(), DType::f64, v));
        double ref_loss = grads.step(batch(step));
        double loss = trained.step(batch(step));
        CHECK(loss == Approx(ref_loss).epsilon(1e-12));  // the loss is computed before the update
        ref.begin_step();
        for (auto& [name, v] : params)
          ref.apply(name, v, values_of(grads.value(*backward.gradient_of(backward.at(name)))));
      }
      for (auto& [name, v] : params) {
        std::vector<double> got = values_of(trained.value(name));
        for (std::size_t i = 0; i < v.size(); ++i) CHECK(got[i] == Approx(v[i]).epsilon(1e-10));
      }
    }
  }
}

TEST_CASE("append_optimizer refuses what it cannot do", "[optimizer]") {
  auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  OptimizerOptions o;
  CHECK_THAT(message([&] { append_optimizer(small_model(), o); }), Catch::Contains("no param gradients"));
  o.lr = -1;
  CHECK_THAT(message([&] { append_optimizer(autodiff(small_model()), o); }), Catch::Contains("learning rate"));
  o.lr = 0.1;
  o.kind = OptimizerOptions::Kind::momentum;
  o.momentum = 1.5;
  CHECK_THAT(message([&] { append_optimizer(autodiff(small_model()), o); }), Catch::Contains("momentum must be in [0, 1)"));
  CHECK_THAT(message([] { parse_optimizer("rmsprop"); }), Catch::Contains("sgd, momentum or adam"));
  CHECK(parse_optimizer("adam") == OptimizerOptions::Kind::adam);
}
