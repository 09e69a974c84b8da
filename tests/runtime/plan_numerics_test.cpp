// Numerical faults in a compiled Plan: a non-finite loss stops the step
// before any update (params keep their values) and names the first node that
// went non-finite; PlanOptions::check_numerics stops at the first bad node.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "frontends/builder.hpp"
#include "frontends/models.hpp"
#include "passes/liveness.hpp"
#include "passes/schedule.hpp"
#include "plan_support.hpp"
#include "runtime/plan.hpp"

namespace {

using kiln::DType;
using kiln::Tensor;

Tensor filled(const kiln::Shape& shape, double v) {
  Tensor t(shape, DType::f32);
  for (std::size_t i = 0; i < t.numel(); ++i) t.set(i, v);
  return t;
}

// loss = sum(exp(x·W)): x = 1000 and W = 1 give exp(3000), which overflows.
kiln::Graph exp_graph() {
  kiln::Builder b;
  auto x = b.input("x", {2, 3});
  auto w = b.param("W", {3, 2}, kiln::Init::constant(1.0));
  auto z = kiln::matmul(x, w, false, false, "z");
  b.set_loss(kiln::sum(kiln::exp(z, "e"), std::nullopt, "loss"));
  return b.graph();
}

// loss = sum(log(relu(x·W))): a negative x makes relu 0 and log(0) = -inf.
kiln::Graph log_graph() {
  kiln::Builder b;
  auto x = b.input("x", {2, 3});
  auto w = b.param("W", {3, 2}, kiln::Init::constant(1.0));
  auto r = kiln::relu(kiln::matmul(x, w, false, false, "z"), "r");
  b.set_loss(kiln::sum(kiln::log(r, "lg"), std::nullopt, "loss"));
  return b.graph();
}

kiln::PlanOptions sgd(double lr = 0.01) {
  kiln::PlanOptions o;
  kiln::OptimizerOptions opt;
  opt.lr = lr;
  o.optimizer = opt;
  return o;
}

std::vector<double> param_values(const kiln::Plan& plan) {
  std::vector<double> all;
  for (kiln::NodeId id : plan.graph().ids())
    if (plan.graph()[id].op == kiln::OpKind::param) {
      std::vector<double> v = plan.value(id).values();
      all.insert(all.end(), v.begin(), v.end());
    }
  return all;
}

}  // namespace

TEST_CASE("a non-finite loss from exp overflow stops the step before the update and names exp", "[plan][numerics]") {
  kiln::Plan plan = kiln::compile(exp_graph(), sgd());
  plan.feed("x", filled({2, 3}, 0.1));
  CHECK(std::isfinite(plan.step()));  // a good step first: the step count goes on
  const std::vector<double> before = param_values(plan);

  plan.feed("x", filled({2, 3}, 1000.0));
  try {
    plan.step();
    FAIL("step() returned although the loss is infinite");
  } catch (const kiln::NonFiniteLoss& e) {
    std::string what = e.what();
    INFO(what);
    CHECK(e.step() == 2);
    CHECK(e.first_bad_node() == "e");
    CHECK_THAT(what, Catch::StartsWith("step 2: the loss node 'loss' (sum) is inf;"));
    CHECK_THAT(what, Catch::Contains("node 'loss'"));
    CHECK_THAT(what, Catch::Contains("node 'e' (exp)"));
    CHECK_THAT(what, Catch::Contains("its inputs: 'z'"));
    // W moved a little in the good step, so x·W is near 3000, all elements alike.
    CHECK_THAT(what, Catch::Contains("its inputs: 'z' f32 [2, 2] in [299"));
    CHECK_THAT(what, Catch::Contains("params keep their values"));
  }
  CHECK(param_values(plan) == before);
  CHECK(std::isinf(plan.loss()));
}

TEST_CASE("a non-finite loss from log of 0 names the log node and its input range", "[plan][numerics]") {
  kiln::Plan plan = kiln::compile(log_graph(), sgd());
  const std::vector<double> before = param_values(plan);
  plan.feed("x", filled({2, 3}, -1.0));
  try {
    plan.step();
    FAIL("step() returned although the loss is -inf");
  } catch (const kiln::NonFiniteLoss& e) {
    std::string what = e.what();
    INFO(what);
    CHECK(e.first_bad_node() == "lg");
    CHECK_THAT(what, Catch::Contains("node 'lg' (log)"));
    CHECK_THAT(what, Catch::Contains("'r'"));
    CHECK_THAT(what, Catch::Contains("in [0, 0]"));
    CHECK_THAT(what, Catch::Contains("-inf"));
  }
  CHECK(param_values(plan) == before);
}

TEST_CASE("check_numerics stops at the first bad node with its op inputs and step", "[plan][numerics]") {
  kiln::PlanOptions options = sgd();
  options.check_numerics = true;
  kiln::Plan plan = kiln::compile(exp_graph(), options);
  CHECK(plan.check_numerics());
  plan.feed("x", filled({2, 3}, 0.5));
  plan.step();
  plan.step();
  plan.feed("x", filled({2, 3}, 1000.0));
  try {
    plan.step();
    FAIL("step() returned although exp overflowed");
  } catch (const kiln::Error& e) {
    std::string what = e.what();
    INFO(what);
    CHECK_THAT(what, Catch::StartsWith("step 3: node 'e' (exp)"));
    CHECK_THAT(what, Catch::Contains("its inputs: 'z'"));
    CHECK_THAT(what, Catch::Contains("inf"));
  }
  CHECK(plan.steps_run() == 3);

  // The same graph with finite values runs the same with the check on or off
  // (to rounding: with the check on, the weight gradient is not folded into
  // its update, so the update's arithmetic is ordered differently).
  kiln::Plan unchecked = kiln::compile(exp_graph(), sgd());
  kiln::Plan checked = kiln::compile(exp_graph(), options);
  for (kiln::Plan* p : {&unchecked, &checked}) p->feed("x", filled({2, 3}, 0.25));
  for (int i = 0; i < 3; ++i) CHECK(checked.step() == Approx(unchecked.step()).epsilon(1e-6));
  const std::vector<double> checked_params = param_values(checked), unchecked_params = param_values(unchecked);
  REQUIRE(checked_params.size() == unchecked_params.size());
  for (std::size_t i = 0; i < checked_params.size(); ++i)
    CHECK(checked_params[i] == Approx(unchecked_params[i]).epsilon(1e-6));
}

TEST_CASE("check_numerics reports the range an in-place update's operand had before it ran", "[plan][numerics]") {
  // SGD with a huge rate overflows W itself in its update (the update
  // overwrites W in place), although loss and gradient are finite.
  kiln::PlanOptions options = sgd(1e38);
  options.check_numerics = true;
  kiln::Plan plan = kiln::compile(exp_graph(), options);
  plan.feed("x", filled({2, 3}, 1.0));
  try {
    plan.step();
    FAIL("step() returned although the update overflowed W");
  } catch (const kiln::Error& e) {
    std::string what = e.what();
    INFO(what);
    CHECK_THAT(what, Catch::Contains("node 'update/W'"));
    // W as it was before the update overwrote it (with check_numerics the
    // gradient's GEMM stays a node of its own, checked before the update).
    CHECK_THAT(what, Catch::Contains("its inputs: 'W' f32 [3, 2] in [1, 1]; 'grad/W'"));
  }
}

TEST_CASE("SGD at learning rate 1e6 on the mlp stops on a non-finite loss with finite params", "[plan][numerics]") {
  kiln::Plan plan = kiln::compile(kiln::build_model("mlp"), sgd(1e6));
  auto feeds = kiln::test::random_feeds(plan.graph(), 3);
  std::vector<double> before;
  bool stopped = false;
  int steps = 0;
  for (; steps < 100 && !stopped; ++steps) {
    before = param_values(plan);
    try {
      plan.step(feeds);
    } catch (const kiln::NonFiniteLoss& e) {
      stopped = true;
      INFO(e.what());
      CHECK_FALSE(e.first_bad_node().empty());
    }
  }
  INFO("steps run: " << steps);
  REQUIRE(stopped);
  std::vector<double> after = param_values(plan);
  CHECK(after == before);
  CHECK(std::all_of(after.begin(), after.end(), [](double v) { return std::isfinite(v); }));
}

TEST_CASE("every schedule runs the loss before the first param update", "[plan][numerics]") {
  for (const std::string& model : kiln::model_names())
    for (auto kind : {kiln::OptimizerOptions::Kind::sgd, kiln::OptimizerOptions::Kind::momentum,
                      kiln::OptimizerOptions::Kind::adam})
      for (bool fuse : {true, false}) {
        kiln::PlanOptions options;
        options.compile.fuse = fuse;
        kiln::OptimizerOptions opt;
        opt.kind = kind;
        options.optimizer = opt;
        kiln::Plan plan = kiln::compile(kiln::build_model(model), options);
        const kiln::Graph& g = plan.graph();
        const auto& order = plan.order();
        auto loss_at = std::find(order.begin(), order.end(), *g.loss());
        REQUIRE(loss_at != order.end());
        int updates = 0;
        for (auto it = order.begin(); it != order.end(); ++it) {
          if (!kiln::overwritten_persistent(g, *it)) continue;
          ++updates;
          INFO(model << " " << kiln::optimizer_name(kind) << " fuse " << fuse << ": " << g[*it].name);
          CHECK(it > loss_at);
        }
        CHECK(updates > 0);
      }
}

TEST_CASE("verify_schedule rejects an order that overwrites a param before the loss", "[plan][numerics]") {
  kiln::Plan plan = kiln::compile(exp_graph(), sgd());
  const kiln::Graph& g = plan.graph();
  std::vector<kiln::NodeId> order = plan.order();
  CHECK_NOTHROW(kiln::verify_schedule(g, order));
  // The loss reads nothing an update writes, so moving it last keeps every
  // data dependence; only the loss-first rule is broken.
  order.erase(std::find(order.begin(), order.end(), *g.loss()));
  order.push_back(*g.loss());
  CHECK_THROWS_WITH(kiln::verify_schedule(g, order),
                    Catch::Contains("node 'update/W'") && Catch::Contains("runs before the loss node 'loss'"));
}

TEST_CASE("stop_on_non_finite_loss off lets the step run through as the reference executor does", "[plan][numerics]") {
  kiln::PlanOptions options = sgd();
  options.stop_on_non_finite_loss = false;
  kiln::Plan plan = kiln::compile(exp_graph(), options);
  plan.feed("x", filled({2, 3}, 1000.0));
  CHECK(std::isinf(plan.step()));
  // The gradient of exp at +inf is inf, so the update wrote non-finite values.
  std::vector<double> w = plan.param("W").values();
  CHECK(std::any_of(w.begin(), w.end(), [](double v) { return !std::isfinite(v); }));
}
