// The memory-aware schedule: a valid order of exactly the needed nodes, no
// worse than creation order, with known peaks on hand-made graphs. Peaks are
// checked against tests/passes/liveness_reference.hpp, which shares no code
// with the pass.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "frontends/builder.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"
#include "liveness_reference.hpp"
#include "passes/autodiff.hpp"
#include "passes/liveness.hpp"
#include "passes/schedule.hpp"
#include "random_graphs.hpp"

using namespace kiln;
using kiln::testing::reference_liveness;
using kiln::testing::reference_peak;

namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Everything the loss, the gradients and the update nodes read, by a plain
// walk over operands.
std::set<NodeId> reference_needed(const Graph& g) {
  std::vector<NodeId> stack;
  if (g.loss()) stack.push_back(*g.loss());
  for (const auto& [of, grad] : g.gradients()) stack.push_back(grad);
  for (NodeId v : g.ids())
    if (g[v].role == Role::update) stack.push_back(v);
  std::set<NodeId> seen(stack.begin(), stack.end());
  while (!stack.empty()) {
    NodeId v = stack.back();
    stack.pop_back();
    for (NodeId u : g.inputs(v))
      if (seen.insert(u).second) stack.push_back(u);
  }
  return seen;
}

// Each needed node exactly once, every operand before its reader, leaves
// before every op.
void check_valid_order(const Graph& g, const std::vector<NodeId>& order) {
  std::set<NodeId> needed = reference_needed(g);
  REQUIRE(order.size() == needed.size());
  std::map<NodeId, std::size_t> pos;
  for (std::size_t i = 0; i < order.size(); ++i) {
    REQUIRE(needed.count(order[i]) == 1);
    REQUIRE(pos.emplace(order[i], i).second);
  }
  bool seen_op = false;
  for (NodeId v : order) {
    if (g[v].info().is_leaf()) CHECK_FALSE(seen_op);
    else seen_op = true;
    for (NodeId u : g.inputs(v)) CHECK(pos.at(u) < pos.at(v));
  }
}

std::vector<NodeId> creation_order(const Graph& g) {
  std::set<NodeId> needed = reference_needed(g);
  return {needed.begin(), needed.end()};
}

std::size_t reference_peak_of(const Graph& g, const std::vector<NodeId>& order) {
  return reference_peak(reference_liveness(g, order), order.size());
}

std::size_t position(const std::vector<NodeId>& order, NodeId v) {
  return static_cast<std::size_t>(std::find(order.begin(), order.end(), v) - order.begin());
}

}  // namespace

TEST_CASE("the schedule of every seed model is a valid order of exactly the needed nodes", "[schedule]") {
  for (const std::string& name : model_names())
    for (std::int64_t batch : {32, 256}) {
      ModelOptions options;
      options.batch = batch;
      Graph forward = build_model(name, options);
      for (const Graph* g : {&forward}) {
        INFO(name << " batch " << batch << " forward");
        std::vector<NodeId> order = schedule(*g);
        check_valid_order(*g, order);
        CHECK_NOTHROW(verify_schedule(*g, order));
      }
      Graph trained = autodiff(forward);
      INFO(name << " batch " << batch << " forward + backward");
      std::vector<NodeId> order = schedule(trained);
      check_valid_order(trained, order);
      CHECK_NOTHROW(verify_schedule(trained, order));
    }
}

TEST_CASE("the schedule never needs more memory than creation order on the seed models", "[schedule]") {
  for (const std::string& name : model_names())
    for (std::int64_t batch : {32, 256})
      for (bool backward : {false, true}) {
        ModelOptions options;
        options.batch = batch;
        Graph g = build_model(name, options);
        if (backward) g = autodiff(g);
        INFO(name << " batch " << batch << (backward ? " forward + backward" : " forward"));
        ScheduleReport report = schedule_with_report(g);
        std::vector<NodeId> creation = creation_order(g);
        // The pass's own figures for the two orders...
        CHECK(report.peak_bytes == peak_live_bytes(g, report.order));
        CHECK(report.creation_order_peak_bytes == peak_live_bytes(g, creation));
        CHECK(report.peak_bytes <= report.creation_order_peak_bytes);
        // ...and the reference's, without in-place sharing.
        LivenessOptions plain;
        plain.in_place = false;
        CHECK(peak_live_bytes(g, report.order, plain) == reference_peak_of(g, report.order));
        CHECK(peak_live_bytes(g, creation, plain) == reference_peak_of(g, creation));
        CHECK(report.dropped.empty());
      }
}

TEST_CASE("the schedule finishes one branch before starting the next", "[schedule]") {
  // Two big products of x, each reduced to a scalar. Creation order keeps
  // both products live at once; reducing the first one before computing the
  // second halves the peak.
  Builder b;
  auto x = b.input("x", {100, 100});
  auto big1 = matmul(x, b.param("W1", {100, 100}), false, false, "big1");
  auto big2 = matmul(x, b.param("W2", {100, 100}), false, false, "big2");
  auto small1 = sum(big1, std::nullopt, "small1");
  auto small2 = sum(big2, std::nullopt, "small2");
  b.set_loss(add(small1, small2, "loss"));
  const Graph& g = b.graph();

  ScheduleReport report = schedule_with_report(g);
  check_valid_order(g, report.order);
  const std::vector<NodeId>& order = report.order;
  CHECK(position(order, g.at("small1")) < position(order, g.at("big2")));
  // 40000 bytes each for x and the products, 64 for each scalar.
  CHECK(reference_peak_of(g, creation_order(g)) == 120000);
  CHECK(report.creation_order_peak_bytes == 120000);
  CHECK(reference_peak_of(g, order) == 80064);
  CHECK(report.peak_bytes == 80064);
}

TEST_CASE("nodes that nothing needs are dropped and reported", "[schedule]") {
  Builder b;
  auto x = b.input("x", {8, 4});
  auto unused = exp(x, "unused");
  square(unused, "unused_too");
  b.set_loss(sum(relu(x, "h"), std::nullopt, "loss"));
  const Graph& g = b.graph();
  ScheduleReport report = schedule_with_report(g);
  std::vector<NodeId> expected{g.at("unused"), g.at("unused_too")};
  CHECK(report.dropped == expected);
  check_valid_order(g, report.order);

  // Asking for a node as an output keeps it.
  ScheduleOptions keep;
  keep.outputs = {g.at("unused_too")};
  std::vector<NodeId> order = schedule(g, keep);
  CHECK(position(order, g.at("unused_too")) < order.size());
  CHECK(position(order, g.at("unused")) < position(order, g.at("unused_too")));
}

TEST_CASE("a graph with no loss keeps every node that has no consumer", "[schedule]") {
  Builder b;
  auto x = b.input("x", {2, 3});
  auto p = softmax(x, std::nullopt, "probabilities");
  neg(p, "negated");
  std::vector<NodeId> order = schedule(b.graph());
  CHECK(order.size() == 3);
  CHECK(order.back() == b.graph().at("negated"));
}

TEST_CASE("an update that overwrites a param runs after every other reader of it", "[schedule]") {
  ModelOptions options;
  options.batch = 32;
  Graph g = autodiff(build_model("mlp", options));
  kiln::testing::append_sgd_updates(g);
  ScheduleReport report = schedule_with_report(g);
  const std::vector<NodeId>& order = report.order;
  check_valid_order(g, order);
  for (const char* param : {"fc1/W", "fc2/W", "fc3/W", "fc1/b", "fc2/b", "fc3/b"}) {
    INFO(param);
    NodeId update = g.at(std::string("update/") + param);
    REQUIRE(overwritten_persistent(g, update) == g.at(param));
    for (NodeId reader : g.consumers(g.at(param)))
      if (reader != update) CHECK(position(order, reader) < position(order, update));
  }
  // The update frees each gradient, so the step needs less than without updates.
  Graph without = autodiff(build_model("mlp", options));
  CHECK(report.peak_bytes < schedule_with_report(without).peak_bytes);

}

TEST_CASE("verify_schedule rejects an update that runs before a reader of its param", "[schedule]") {
  // The update of W does not depend on the forward product h, which reads W:
  // only the write-after-read rule keeps h ahead of it.
  Builder b;
  auto x = b.input("x", {2, 3});
  auto h = matmul(x, b.param("W", {3, 4}), false, false, "h");
  b.set_loss(sum(h, std::nullopt, "loss"));
  Graph g = autodiff(b.graph());
  kiln::testing::append_sgd_updates(g);
  std::vector<NodeId> order = schedule(g);
  CHECK(position(order, g.at("h")) < position(order, g.at("update/W")));
  std::vector<NodeId> broken;
  for (NodeId v : order)
    if (v != g.at("h") && v != g.at("loss")) broken.push_back(v);
  broken.push_back(g.at("h"));
  broken.push_back(g.at("loss"));
  CHECK_THAT(message_of([&] { verify_schedule(g, broken); }),
             Catch::Contains("'update/W'") && Catch::Contains("'h'") && Catch::Contains("overwrites"));
}

TEST_CASE("verify_schedule names the node of a broken order", "[schedule]") {
  Builder b;
  auto x = b.input("x", {2, 3});
  auto h = relu(x, "h");
  b.set_loss(sum(h, std::nullopt, "loss"));
  const Graph& g = b.graph();
  NodeId xi = g.at("x"), hi = g.at("h"), li = g.at("loss");
  CHECK_NOTHROW(verify_schedule(g, {xi, hi, li}));
  CHECK_THAT(message_of([&] { verify_schedule(g, {xi, li, hi}); }),
             Catch::Contains("'loss'") && Catch::Contains("before its operand") && Catch::Contains("'h'"));
  CHECK_THAT(message_of([&] { verify_schedule(g, {xi, hi, hi, li}); }),
             Catch::Contains("'h'") && Catch::Contains("twice"));
  CHECK_THAT(message_of([&] { verify_schedule(g, {hi, li}); }),
             Catch::Contains("'x'") && Catch::Contains("not in the schedule"));
  CHECK_THAT(message_of([&] { verify_schedule(g, {xi, hi, li, 17}); }), Catch::Contains("17"));
}

TEST_CASE("random graphs get valid schedules no worse than creation order", "[schedule][random]") {
  int greedy_chosen = 0, graphs = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed)
    for (int mode = 0; mode < 3; ++mode) {
      kiln::testing::RandomGraphOptions options;
      options.seed = seed;
      options.ops = 5 + static_cast<int>(seed % 50);
      options.backward = mode >= 1;
      options.update = mode == 2;
      Graph g = kiln::testing::random_graph(options);
      INFO("seed " << seed << " mode " << mode);
      ScheduleReport report = schedule_with_report(g);
      check_valid_order(g, report.order);
      CHECK(report.peak_bytes <= report.creation_order_peak_bytes);
      LivenessOptions plain;
      plain.in_place = false;
      CHECK(peak_live_bytes(g, report.order, plain) == reference_peak_of(g, report.order));
      std::set<NodeId> needed = reference_needed(g);
      for (NodeId v : report.dropped) CHECK(needed.count(v) == 0);
      CHECK(report.dropped.size() + report.order.size() == g.size());
      greedy_chosen += report.chosen == "memory-greedy";
      ++graphs;
    }
  // The greedy list scheduler should be the usual winner, not the fallbacks.
  CHECK(greedy_chosen * 2 > graphs);
}
