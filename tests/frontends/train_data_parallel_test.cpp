// The training loop's side of data-parallel training, without MPI: each
// rank's share of a batch, the batch that does not split, and evaluation
// shared out over ranks (threads of this process standing in for them).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <thread>

#include "frontends/builder.hpp"
#include "frontends/data/data.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "frontends/train/train.hpp"
#include "graph/error.hpp"
#include "runtime/comm/thread_communicator.hpp"
#include "runtime/plan.hpp"

namespace {

using namespace kiln;

data::Dataset numbered_rows(std::int64_t rows) {
  data::Dataset d;
  d.name = "numbered";
  d.rows = rows;
  d.features = 2;
  d.classes = 2;
  for (std::int64_t r = 0; r < rows; ++r) {
    d.x.push_back(static_cast<float>(r));
    d.x.push_back(static_cast<float>(-r));
    d.y.push_back(static_cast<std::int32_t>(r % 2));
  }
  return d;
}

Graph classifier(std::int64_t batch) {
  Builder g;
  g.set_loss(softmax_cross_entropy(dense(g, g.input("x", {batch, 2}), 2, "fc1"), g.labels("y", batch, 2), "loss"));
  return g.graph();
}

}  // namespace

TEST_CASE("shards: the ranks' shares of a batch, side by side, are the batch one process feeds", "[train][ranks]") {
  const data::Dataset d = numbered_rows(25);  // 25 rows in batches of 6: 4 batches, one row skipped
  const Graph whole = classifier(6), third = classifier(2);
  Plan one = compile(whole, PlanOptions{.optimizer = OptimizerOptions{}});
  std::vector<Plan> ranks;
  for (int r = 0; r < 3; ++r) ranks.push_back(compile(third, PlanOptions{.optimizer = OptimizerOptions{}}));
  train::ShuffledBatches alone(d, train::find_classifier_nodes(whole, "whole"), true, 11);
  std::vector<train::ShuffledBatches> shares;
  for (int r = 0; r < 3; ++r)
    shares.emplace_back(d, train::find_classifier_nodes(third, "third"), true, 11, train::Shard{r, 3});
  for (std::int64_t epoch : {0, 4}) {
    alone.start_epoch(epoch);
    for (auto& s : shares) s.start_epoch(epoch);
    REQUIRE(alone.count() == 4);
    for (const auto& s : shares) REQUIRE(s.count() == 4);
    for (std::int64_t b = 0; b < 4; ++b) {
      alone.fill(b, one);
      for (int r = 0; r < 3; ++r) {
        shares[static_cast<std::size_t>(r)].fill(b, ranks[static_cast<std::size_t>(r)]);
        const float* x = ranks[static_cast<std::size_t>(r)].input_buffer("x");
        const std::int32_t* y = ranks[static_cast<std::size_t>(r)].labels_buffer("y");
        CHECK(std::equal(x, x + 4, one.input_buffer("x") + 4 * r));
        CHECK(std::equal(y, y + 2, one.labels_buffer("y") + 2 * r));
      }
    }
  }
}

TEST_CASE("shards: a dataset smaller than one global batch and a rank outside the world are refused", "[train][ranks]") {
  const Graph g = classifier(4);
  const auto nodes = train::find_classifier_nodes(g, "g");
  const data::Dataset d = numbered_rows(10);
  CHECK_THROWS_WITH(train::ShuffledBatches(d, nodes, false, 0, train::Shard{0, 3}),
                    Catch::Contains("10 rows, fewer than one batch of 12"));
  CHECK_THROWS_WITH(train::ShuffledBatches(d, nodes, false, 0, train::Shard{2, 2}),
                    Catch::Contains("shard 2 of 2"));
}

TEST_CASE("rows per rank: a batch that does not split evenly names both numbers", "[train][ranks]") {
  CHECK(train::rows_per_rank(300, 2) == 150);
  CHECK(train::rows_per_rank(7, 1) == 7);
  CHECK_THROWS_WITH(train::rows_per_rank(15, 2), Catch::Contains("batch of 15 rows") && Catch::Contains("2 ranks"));
  CHECK_THROWS_WITH(train::rows_per_rank(64, 3), Catch::Contains("64") && Catch::Contains("3 ranks"));
}

TEST_CASE("evaluation shared out over ranks gives every rank the metrics of every row", "[train][ranks]") {
  const data::Split split = data::load_digits(3);
  const Graph model = build_model("logreg");
  auto params = std::make_shared<ParamStore>();
  params->initialise(build_model("logreg", {.batch = 1, .hidden = {}, .dtype = DType::f32, .weight_decay = -1}), 0);
  Tensor& w = params->get("fc1/W");
  for (std::size_t i = 0; i < w.numel(); ++i) w.set(i, std::sin(0.37 * static_cast<double>(i)) * 0.1);

  train::Evaluator alone(model, params, 128);
  const train::Metrics expected = alone.evaluate(split.test);  // 540 rows: 180 a rank, in batches of 128 and 52
  // Each rank's plans compiled here, one thread at a time, by evaluating
  // its 180 rows' worth of rows (compiling picks GEMM kernels process-wide).
  data::Dataset first_180 = split.test;
  first_180.rows = 180;
  first_180.x.resize(static_cast<std::size_t>(180 * first_180.features));
  first_180.y.resize(180);
  std::vector<std::unique_ptr<train::Evaluator>> evaluators;
  for (int r = 0; r < 3; ++r) {
    evaluators.push_back(std::make_unique<train::Evaluator>(model, params, 128));
    evaluators.back()->evaluate(first_180);
  }
  std::vector<std::shared_ptr<Communicator>> world = thread_communicators(3);
  std::vector<train::Metrics> got(3);
  std::vector<std::thread> ranks;
  for (int r = 0; r < 3; ++r)
    ranks.emplace_back([&, r] {
      const auto i = static_cast<std::size_t>(r);
      got[i] = evaluators[i]->evaluate(split.test, world[i].get());
    });
  for (std::thread& t : ranks) t.join();
  for (const train::Metrics& m : got) {
    CHECK(m.rows() == 540);
    CHECK(m.correct() == expected.correct());
    CHECK(m.mean_loss() == Approx(expected.mean_loss()).epsilon(1e-6));  // f32 row losses, batched otherwise
    for (int t = 0; t < 10; ++t)
      for (int p = 0; p < 10; ++p) CHECK(m.confusion(t, p) == expected.confusion(t, p));
  }
}
