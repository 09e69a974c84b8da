// Data-parallel plans (PlanOptions::communicator) on N ranks, each a thread
// of this process (runtime/comm/thread_communicator.hpp): N ranks × batch/N
// rows must train exactly as one process on the whole batch — the same loss
// at every step and the same final params — for every seed model and every
// optimizer. The reference is the one-process plan, which the rest of the
// suite checks against finite differences, NumPy and PyTorch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "frontends/models.hpp"
#include "graph/dot.hpp"
#include "plan_support.hpp"
#include "runtime/comm/broadcast_params.hpp"
#include "runtime/comm/thread_communicator.hpp"
#include "runtime/plan.hpp"
#include "runtime/plan_dot.hpp"
#include "runtime/threads.hpp"
#include "tests/alloc_hook/allocation_counter.hpp"

using namespace kiln;

namespace {

constexpr int kSteps = 4;

struct Run {
  std::vector<double> losses;
  std::vector<std::pair<std::string, std::vector<double>>> params;  // every tensor of the store, by name
};

// The global batch of step s: rows of x and y, the same for every run.
struct Batch {
  std::vector<double> x;
  std::vector<std::int32_t> y;
};

Batch global_batch(const Graph& g, std::int64_t rows, int step) {
  const Node& x = g[g.at("x")];
  const Node& y = g[g.at("y")];
  const auto features = static_cast<std::size_t>(x.shape[1]);
  std::mt19937_64 rng(1000 + static_cast<std::uint64_t>(step));
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Batch b;
  b.x.resize(static_cast<std::size_t>(rows) * features);
  for (double& v : b.x) v = u(rng);
  b.y.resize(static_cast<std::size_t>(rows));
  for (std::int32_t& c : b.y) c = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(y.attrs.classes));
  return b;
}

// Writes rows [first, first + rows) of `b` into the plan's input slots.
void feed_rows(Plan& plan, const Batch& b, std::size_t first, std::size_t rows, DType dtype) {
  const std::size_t features = b.x.size() / b.y.size();
  if (dtype == DType::f64) {
    double* x = plan.input_buffer<double>("x");
    for (std::size_t i = 0; i < rows * features; ++i) x[i] = b.x[first * features + i];
  } else {
    float* x = plan.input_buffer<float>("x");
    for (std::size_t i = 0; i < rows * features; ++i) x[i] = static_cast<float>(b.x[first * features + i]);
  }
  std::int32_t* y = plan.labels_buffer("y");
  for (std::size_t i = 0; i < rows; ++i) y[i] = b.y[first + i];
}

struct Case {
  std::string model;
  OptimizerOptions::Kind kind;
  DType dtype = DType::f32;
  std::int64_t batch = 24;
  bool fuse = true;
  // Small, so that the seed models' biases are bucketed and their weights
  // reduced alone: both paths run.
  std::size_t bucket_below_bytes = 1024;
};

PlanOptions plan_options(const Case& c, std::shared_ptr<Communicator> comm) {
  PlanOptions o;
  o.compile.fuse = c.fuse;
  o.optimizer = OptimizerOptions{};
  o.optimizer->kind = c.kind;
  // Adam's first steps move every weight by about lr whatever its
  // gradient's size, so where a gradient is near zero the two runs' rounding
  // differences become differences of order lr: its lr is kept small beside
  // the weights (N(0, 0.01²) in the MLP) for 1e-5 of the largest to hold.
  o.optimizer->lr = c.kind == OptimizerOptions::Kind::adam ? 0.001 : 0.1;
  o.seed = 7;
  o.communicator = std::move(comm);
  o.allreduce_bucket_below_bytes = c.bucket_below_bytes;
  return o;
}

Graph model(const Case& c, std::int64_t batch) {
  ModelOptions mo;
  mo.batch = batch;
  mo.dtype = c.dtype;
  if (c.model == "mlp") mo.hidden = {32, 16};
  return build_model(c.model, mo);
}

Run record(const Plan& plan, std::vector<double> losses) {
  Run r{std::move(losses), {}};
  for (const std::string& name : plan.params().names())
    r.params.emplace_back(name, TensorView{plan.param(name).raw(), &plan.param(name).shape(), plan.param(name).dtype()}
                                    .values());
  return r;
}

Run train_one_process(const Case& c) {
  Graph g = model(c, c.batch);
  Plan plan = compile(g, plan_options(c, nullptr));
  std::vector<double> losses;
  for (int s = 0; s < kSteps; ++s) {
    feed_rows(plan, global_batch(g, c.batch, s), 0, static_cast<std::size_t>(c.batch), c.dtype);
    losses.push_back(plan.step());
  }
  return record(plan, losses);
}

// Every rank trains on its rows; rank 0's record is returned, and every
// other rank must end with bitwise the same params.
Run train_ranks(const Case& c, int ranks) {
  Run rank0;
  std::mutex m;
  std::vector<Run> others;
  const std::int64_t rows = c.batch / ranks;
  run_ranks(ranks, [&](const std::shared_ptr<Communicator>& comm) {
    Graph g = model(c, rows);
    // Each rank draws other initial params (rank 0 those of the one-process
    // run): broadcast_params must make every rank start from rank 0's.
    PlanOptions o = plan_options(c, comm);
    o.seed += static_cast<std::uint64_t>(comm->rank());
    Plan plan = compile(g, o);
    broadcast_params(*comm, plan.params());
    const Graph full = model(c, c.batch);
    std::vector<double> losses;
    for (int s = 0; s < kSteps; ++s) {
      feed_rows(plan, global_batch(full, c.batch, s), static_cast<std::size_t>(comm->rank() * rows),
                static_cast<std::size_t>(rows), c.dtype);
      losses.push_back(plan.step());
    }
    Run r = record(plan, losses);
    std::lock_guard lock(m);
    if (comm->rank() == 0) rank0 = std::move(r);
    else others.push_back(std::move(r));
  });
  for (const Run& o : others) {
    CHECK(o.losses == rank0.losses);
    REQUIRE(o.params.size() == rank0.params.size());
    for (std::size_t i = 0; i < o.params.size(); ++i) {
      INFO("rank's " << o.params[i].first);
      CHECK(o.params[i].second == rank0.params[i].second);
    }
  }
  return rank0;
}

void check_same_training(const Case& c, int ranks) {
  INFO(c.model << ", " << optimizer_name(c.kind) << ", " << dtype_name(c.dtype) << ", " << ranks << " ranks × "
               << c.batch / ranks << " rows" << (c.fuse ? "" : ", unfused"));
  const Run one = train_one_process(c);
  const Run many = train_ranks(c, ranks);
  const double tol = test::plan_tolerance(c.dtype);
  test::check_agrees(many.losses, one.losses, tol, "loss curve");
  REQUIRE(many.params.size() == one.params.size());
  for (std::size_t i = 0; i < one.params.size(); ++i) {
    REQUIRE(many.params[i].first == one.params[i].first);
    test::check_agrees(many.params[i].second, one.params[i].second, tol, "final " + one.params[i].first);
  }
}

}  // namespace

TEST_CASE("data parallel: 2 ranks × half the batch train as 1 process × the batch", "[plan][data_parallel]") {
  for (const char* m : {"logreg", "spiral-net", "mlp"})
    for (auto kind : {OptimizerOptions::Kind::sgd, OptimizerOptions::Kind::momentum, OptimizerOptions::Kind::adam})
      check_same_training({m, kind}, 2);
}

TEST_CASE("data parallel: in f64 the agreement is tighter, and 3 ranks agree too", "[plan][data_parallel]") {
  for (auto kind : {OptimizerOptions::Kind::sgd, OptimizerOptions::Kind::adam})
    check_same_training({"spiral-net", kind, DType::f64}, 2);
  check_same_training({"mlp", OptimizerOptions::Kind::momentum, DType::f64}, 3);
  check_same_training({"logreg", OptimizerOptions::Kind::sgd, DType::f32, 24, /*fuse=*/false}, 3);
}

TEST_CASE("data parallel: one bucket of all six MLP gradients trains as 1 process", "[plan][data_parallel]") {
  // Every gradient below the threshold: one allreduce_start reads all six,
  // in one kernel call.
  Case c{"mlp", OptimizerOptions::Kind::momentum, DType::f32, 24, true, std::size_t{1} << 20};
  const Plan plan = compile(model(c, 12), plan_options(c, thread_communicators(2)[0]));
  std::size_t starts = 0;
  for (NodeId id : plan.order()) {
    if (plan.graph()[id].op != OpKind::allreduce_start) continue;
    ++starts;
    CHECK(plan.graph().inputs(id).size() == 6);
  }
  CHECK(starts == 1);
  check_same_training(c, 2);
}

TEST_CASE("data parallel: a communicator of one rank compiles today's plan", "[plan][data_parallel]") {
  Case c{"mlp", OptimizerOptions::Kind::sgd};
  Graph g = model(c, 8);
  Plan alone = compile(g, plan_options(c, nullptr));
  Plan one_rank = compile(g, plan_options(c, thread_communicators(1)[0]));
  REQUIRE(alone.order().size() == one_rank.order().size());
  for (std::size_t i = 0; i < alone.order().size(); ++i) {
    CHECK(alone.graph()[alone.order()[i]].name == one_rank.graph()[one_rank.order()[i]].name);
    CHECK(alone.graph()[alone.order()[i]].op == one_rank.graph()[one_rank.order()[i]].op);
  }
  CHECK(alone.memory().arena_bytes == one_rank.memory().arena_bytes);
  for (int s = 0; s < 3; ++s) {
    for (Plan* p : {&alone, &one_rank}) {
      feed_rows(*p, global_batch(g, 8, s), 0, 8, DType::f32);
    }
    CHECK(alone.step() == one_rank.step());
  }
  for (const std::string& name : alone.params().names())
    CHECK(std::memcmp(alone.param(name).raw(), one_rank.param(name).raw(), alone.param(name).bytes()) == 0);
}

TEST_CASE("data parallel: a step allocates nothing on any rank", "[plan][data_parallel][alloc]") {
  if (!testing::AllocationCounter::available()) {
    WARN("the allocation counter is not installed in this build (sanitizer or non-glibc): nothing to count");
    return;
  }
  const int before = threads();
  set_threads(1);  // Debian's OpenBLAS allocates in threaded GEMMs (see plan_alloc_test.cpp)
  // Three windows of 5 steps each. An allocation a step makes shows in
  // every window; what only the first overlap of the two ranks' GEMMs can
  // trigger (a library growing a buffer pool once: seen once under
  // `ctest -j2`, never reproduced alone) shows in one at most.
  constexpr int kWindows = 3;
  for (auto kind : {OptimizerOptions::Kind::sgd, OptimizerOptions::Kind::adam}) {
    Case c{"mlp", kind};
    std::size_t allocations[kWindows] = {};
    run_ranks(2, [&](const std::shared_ptr<Communicator>& comm) {
      Plan plan = compile(model(c, 16), plan_options(c, comm));
      for (const auto& [name, value] : test::random_feeds(plan.graph(), 3 + comm->rank())) plan.feed(name, value);
      plan.step();
      plan.step();
      for (std::size_t& window : allocations) {
        std::optional<testing::AllocationCounter> counter;
        comm->barrier();
        if (comm->rank() == 0) counter.emplace();
        comm->barrier();
        for (int s = 0; s < 5; ++s) plan.step();
        comm->barrier();
        if (comm->rank() == 0) window = counter->allocations();
      }
    });
    INFO(optimizer_name(kind) << ": allocations in the windows " << allocations[0] << ", " << allocations[1] << ", "
                              << allocations[2]);
    CHECK(*std::min_element(allocations, allocations + kWindows) == 0);
    CHECK(allocations[0] + allocations[1] + allocations[2] <= 1);
  }
  set_threads(before);
}

TEST_CASE("data parallel: the planned DOT shows the reductions, in place of their gradients",
          "[plan][data_parallel][dot]") {
  Case c{"mlp", OptimizerOptions::Kind::sgd};
  std::vector<std::shared_ptr<Communicator>> comms = thread_communicators(2);
  // Compiling runs no collective, so one rank of the two can be built alone.
  Plan plan = compile(model(c, 8), plan_options(c, comms[0]));
  const Graph& g = plan.graph();
  const std::string dot = to_dot(g, planned_dot_options(plan));
  CHECK_THAT(dot, Catch::Contains("allreduce over ranks"));
  CHECK_THAT(dot, Catch::Contains(std::string(dot_kind_colour(DotKind::collective))));
  CHECK_THAT(dot, Catch::Contains("grad/fc1/W/allreduce_start"));
  CHECK_THAT(dot, Catch::Contains("factor=0.5"));
  // fc1/W's gradient is summed in its own buffer: start and wait in place.
  const BufferPlan& start = plan.memory().buffer(g.at("grad/fc1/W/allreduce_start"));
  const BufferPlan& wait = plan.memory().buffer(g.at("grad/fc1/W/allreduced"));
  REQUIRE(start.reuses);
  CHECK(*start.reuses == g.at("grad/fc1/W"));
  CHECK(wait.offset == start.offset);
}
