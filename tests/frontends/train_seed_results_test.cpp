// The classic results kiln's training reproduces, through the public C++
// training API (the loop a user writes): a plan compiled with its optimizer,
// batches streamed into its buffers, a forward-only evaluation over the
// shared params.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "frontends/builder.hpp"
#include "frontends/data/data.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "frontends/train/train.hpp"
#include "runtime/plan.hpp"
#include "runtime/threads.hpp"

namespace {

using namespace kiln;

struct Trained {
  std::vector<double> losses;  // one per epoch: the mean of its steps' losses
  train::Metrics train_metrics, test_metrics;
};

// Full-batch training (one step per epoch) of `model` on `split`.
Trained train_full_batch(const Graph& model, const data::Split& split, const OptimizerOptions& optimizer,
                         std::int64_t epochs) {
  set_threads(1);
  const train::ClassifierNodes nodes = train::find_classifier_nodes(model, "model");
  Plan plan = compile(model, PlanOptions{.compile = {}, .optimizer = optimizer, .seed = 0});
  train::ShuffledBatches batches(split.train, nodes, /*shuffle=*/false, 0);
  Trained out;
  for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
    batches.start_epoch(epoch);
    double sum = 0;
    for (std::int64_t b = 0; b < batches.count(); ++b) {
      batches.fill(b, plan);
      sum += plan.step();
    }
    out.losses.push_back(sum / static_cast<double>(batches.count()));
  }
  train::Evaluator evaluator(model, plan.shared_params(), 512);
  out.train_metrics = evaluator.evaluate(split.train);
  if (split.test.rows > 0) out.test_metrics = evaluator.evaluate(split.test);
  return out;
}

OptimizerOptions sgd(double lr) {
  OptimizerOptions o;
  o.kind = OptimizerOptions::Kind::sgd;
  o.lr = lr;
  return o;
}

}  // namespace

TEST_CASE("seed result: logistic regression on digits from zeros reaches 94 percent test accuracy", "[train][seed]") {
  const data::Split split = data::load_digits(0);
  const Graph model = build_model("logreg", {.batch = split.train.rows});
  const Trained run = train_full_batch(model, split, sgd(0.01), 301);
  // Zero weights give every class probability 1/10: the loss is log 10.
  CHECK(run.losses.front() == Approx(std::log(10.0)).epsilon(1e-6));
  CHECK(run.losses.back() > 0.07);
  CHECK(run.losses.back() < 0.12);
  CHECK(run.test_metrics.rows() == 540);
  CHECK(run.test_metrics.accuracy() >= 0.94);
}

TEST_CASE("seed result: the spiral net fits the spiral and a linear model cannot", "[train][seed]") {
  data::Split split;
  split.train = data::make_spiral(0);
  const Trained net = train_full_batch(build_model("spiral-net"), split, sgd(1.0), 10000);
  CHECK(net.train_metrics.accuracy() >= 0.98);

  Builder g;
  Value x = g.input("x", {300, 2});
  Value y = g.labels("y", 300, 3);
  g.set_loss(softmax_cross_entropy(dense(g, x, 3, "fc1", Init::normal(0.01), Init::zeros()), y, "loss"));
  const Trained linear = train_full_batch(g.graph(), split, sgd(1.0), 2000);
  CHECK(linear.train_metrics.accuracy() > 0.40);
  CHECK(linear.train_metrics.accuracy() < 0.60);
}

TEST_CASE("seed result: the moons net with momentum 0.99 reaches 97 percent", "[train][seed]") {
  data::Split split;
  split.train = data::make_moons(0);
  OptimizerOptions momentum;
  momentum.kind = OptimizerOptions::Kind::momentum;
  momentum.momentum = 0.99;
  momentum.lr = 0.01;
  const Trained run = train_full_batch(build_model("moons-net"), split, momentum, 1000);
  CHECK(run.train_metrics.accuracy() >= 0.97);
}
