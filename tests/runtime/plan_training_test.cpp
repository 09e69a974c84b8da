// Training through the planned runtime against training through the
// reference Executor: the same optimizer-update graph (autodiff, then
// append_optimizer) run by the Executor, the same seed and batches, step by
// step in f64.
#include <catch2/catch.hpp>

#include <string>

#include "frontends/models.hpp"
#include "passes/autodiff.hpp"
#include "passes/optimizer.hpp"
#include "plan_support.hpp"
#include "runtime/executor.hpp"
#include "runtime/plan.hpp"
#include "tests/passes/random_graphs.hpp"

namespace {

using kiln::test::check_agrees;

constexpr std::uint64_t kSeed = 5;

struct Run {
  std::vector<double> reference_losses, plan_losses;
};

// `steps` steps of `optimizer` on `model` (f64, small batches so the test is
// quick), each on its own seeded batch; the plan is fused or not. Compares
// every param (and optimizer state) at the end.
Run train_both(const std::string& model, const kiln::OptimizerOptions& optimizer, bool fuse, int steps,
               std::int64_t batch) {
  kiln::ModelOptions mo;
  mo.dtype = kiln::DType::f64;
  mo.batch = batch;
  kiln::Graph g = kiln::build_model(model, mo);

  kiln::Executor reference(kiln::append_optimizer(kiln::autodiff(g), optimizer), kSeed);
  kiln::PlanOptions options;
  options.compile.fuse = fuse;
  options.compile.verify_each_pass = true;
  options.optimizer = optimizer;
  options.seed = kSeed;
  kiln::Plan plan = kiln::compile(g, options);

  Run run;
  for (int s = 0; s < steps; ++s) {
    kiln::test::Feeds batch_feeds = kiln::test::random_feeds(g, 1000 + static_cast<std::uint64_t>(s % 4), -2, 2);
    run.reference_losses.push_back(reference.step(batch_feeds));
    run.plan_losses.push_back(plan.step(batch_feeds));
  }
  for (const std::string& name : reference.params().names())
    check_agrees(plan.param(name).values(), reference.params().get(name).values(), 1e-9, "param " + name);
  return run;
}

void check_same_losses(const Run& run) {
  REQUIRE(run.plan_losses.size() == run.reference_losses.size());
  for (std::size_t s = 0; s < run.plan_losses.size(); ++s) {
    INFO("step " << s << ": plan " << run.plan_losses[s] << ", reference " << run.reference_losses[s]);
    CHECK(std::abs(run.plan_losses[s] - run.reference_losses[s]) <= 1e-6 * std::abs(run.reference_losses[s]));
  }
  // Four batches seen over and over: training must make progress on them.
  CHECK(run.plan_losses.back() < run.plan_losses.front());
}

}  // namespace

TEST_CASE("plan: the seed models train with SGD exactly as through the executor", "[plan][training]") {
  kiln::OptimizerOptions sgd;
  sgd.lr = 0.1;
  for (const std::string& model : kiln::model_names())
    for (bool fuse : {true, false}) {
      INFO(model << (fuse ? " fused" : " unfused"));
      check_same_losses(train_both(model, sgd, fuse, 50, 64));
    }
}

TEST_CASE("plan: moons-net trains with momentum exactly as through the executor", "[plan][training]") {
  kiln::OptimizerOptions momentum;
  momentum.kind = kiln::OptimizerOptions::Kind::momentum;
  momentum.lr = 0.05;
  momentum.weight_decay = 1e-4;
  for (bool fuse : {true, false}) {
    INFO((fuse ? "fused" : "unfused"));
    check_same_losses(train_both("moons-net", momentum, fuse, 50, 128));
  }
}

TEST_CASE("plan: the mlp trains with Adam exactly as through the executor", "[plan][training]") {
  kiln::OptimizerOptions adam;
  adam.kind = kiln::OptimizerOptions::Kind::adam;
  adam.lr = 1e-3;
  check_same_losses(train_both("mlp", adam, true, 20, 16));
}

TEST_CASE("plan: an update node built from ordinary ops overwrites its param in place", "[plan][training]") {
  // random_graph's updates are sub(W, scale(grad/W, lr)) tagged Role::update:
  // after one step each param must be its old value minus lr times the
  // gradient the reference computes on the graph without updates.
  int checked = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    kiln::testing::RandomGraphOptions ro;
    ro.seed = seed;
    ro.backward = true;
    kiln::Graph without_updates = kiln::testing::random_graph(ro);
    if (without_updates.gradients().empty()) continue;
    ro.update = true;
    kiln::Graph with_updates = kiln::testing::random_graph(ro);
    kiln::test::Feeds feeds = kiln::test::random_feeds(without_updates, seed);
    kiln::Executor reference(without_updates, kSeed);
    reference.step(feeds);

    kiln::PlanOptions options;
    options.compile.fuse = false;
    options.compile.simplify = false;
    options.compile.differentiate = false;  // the graph carries its own backward and updates
    options.seed = kSeed;
    options.stop_on_non_finite_loss = false;  // a NaN update must meet the reference's NaN
    kiln::Plan plan = kiln::compile(with_updates, options);
    plan.step(feeds);
    for (const auto& [of, grad] : without_updates.gradients()) {
      const std::string& name = without_updates[of].name;
      std::vector<double> want = reference.params().get(name).values();
      std::vector<double> g = reference.value(grad).values();
      for (std::size_t i = 0; i < want.size(); ++i) want[i] -= static_cast<double>(static_cast<float>(0.01) * g[i]);
      INFO("random graph seed " << seed);
      check_agrees(plan.param(name).values(), want, 1e-5, "updated param " + name);
      ++checked;
    }
  }
  CHECK(checked > 0);
}
