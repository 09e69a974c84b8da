// The data-parallel pass alone (passes/allreduce.hpp) on small graphs: where
// its nodes go, the scale, the buckets, fuse_update giving way, and where the
// scheduler places the reductions.
#include <catch2/catch.hpp>

#include <algorithm>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "graph/verify.hpp"
#include "passes/allreduce.hpp"
#include "passes/fuse_update.hpp"
#include "passes/optimizer.hpp"
#include "passes/pipeline.hpp"
#include "passes/schedule.hpp"

using namespace kiln;

namespace {

// fc1 [4, 64] with a bias, fc2 [64, 3]: weights of 1 KiB and 768 B, biases
// of 256 B and 12 B.
Graph training_graph(OptimizerOptions::Kind kind = OptimizerOptions::Kind::sgd, bool fuse = true) {
  Builder b;
  auto x = b.input("x", {8, 4});
  auto y = b.labels("y", 8, 3);
  auto logits = dense(b, relu(dense(b, x, 64, "fc1"), "fc1/relu"), 3, "fc2");
  b.set_loss(softmax_cross_entropy(logits, y, "loss"));
  OptimizerOptions o;
  o.kind = kind;
  CompileOptions co;
  co.fuse = fuse;
  return append_optimizer(run_pipeline(b.graph(), co).graph, o);
}

Graph reduced(const Graph& g, PassStats& stats, int ranks, std::size_t bucket_below = 512) {
  AllreduceOptions o;
  o.ranks = ranks;
  o.bucket_below_bytes = bucket_below;
  Graph out = insert_allreduce(g, stats, o);
  verify(out);
  return out;
}

std::vector<NodeId> of_op(const Graph& g, OpKind op) {
  std::vector<NodeId> out;
  for (NodeId id : g.ids())
    if (g[id].op == op) out.push_back(id);
  return out;
}

std::size_t position(const std::vector<NodeId>& order, NodeId id) {
  return static_cast<std::size_t>(std::find(order.begin(), order.end(), id) - order.begin());
}

}  // namespace

TEST_CASE("allreduce: one rank changes nothing", "[passes][allreduce]") {
  Graph g = training_graph();
  PassStats stats;
  Graph out = reduced(g, stats, 1);
  CHECK(out.size() == g.size());
  CHECK(stats.fired.empty());
  CHECK_THROWS_WITH(reduced(g, stats, 0), Catch::Contains("at least 1 rank"));
}

TEST_CASE("allreduce: every gradient reaches its update through a reduction scaled by 1/ranks",
          "[passes][allreduce]") {
  Graph g = training_graph();
  PassStats stats;
  Graph out = reduced(g, stats, 4);
  // The two weights alone, the two biases in one bucket.
  CHECK(stats.count_of("allreduce") == 2);
  CHECK(stats.count_of("bucket") == 1);
  CHECK(stats.count_of("bucketed") == 2);
  CHECK(of_op(out, OpKind::allreduce_start).size() == 3);
  CHECK(of_op(out, OpKind::allreduce_slice).size() == 2);
  for (NodeId wait : of_op(out, OpKind::allreduce_wait)) CHECK(out[wait].attrs.factor == 0.25);

  for (const char* param : {"fc1/W", "fc1/b", "fc2/W", "fc2/b"}) {
    INFO(param);
    NodeId update = out.at(std::string("update/") + param);
    NodeId grad = out.inputs(update)[1];
    // The update reads the reduced gradient, which Graph::gradients() names.
    CHECK(out[grad].name == std::string("grad/") + param + "/allreduced");
    CHECK(out.gradient_of(out.at(param)) == grad);
    NodeId wait = out[grad].op == OpKind::allreduce_slice ? out.inputs(grad)[0] : grad;
    REQUIRE(out[wait].op == OpKind::allreduce_wait);
    NodeId start = out.inputs(wait)[0];
    REQUIRE(out[start].op == OpKind::allreduce_start);
    std::vector<NodeId> packed = out.inputs(start);
    CHECK(std::count(packed.begin(), packed.end(), out.at(std::string("grad/") + param)) == 1);
  }
  // The bucket packs the biases back to back; each slice reads its own run.
  NodeId b1 = out.at("grad/fc1/b/allreduced"), b2 = out.at("grad/fc2/b/allreduced");
  NodeId bucket = out.inputs(out.inputs(b1)[0])[0];
  CHECK(out[bucket].shape == Shape{64 + 3});
  std::vector<NodeId> members = out.inputs(bucket);
  REQUIRE(members.size() == 2);
  // Last layer first: the backward pass writes fc2's gradient before fc1's.
  CHECK(out[members[0]].name == "grad/fc2/b");
  CHECK(out[b2].attrs.offset == 0);
  CHECK(out[b1].attrs.offset == 3);
  CHECK(out[b1].shape == Shape{64});
}

TEST_CASE("allreduce: a bucket holds at most bucket_bytes", "[passes][allreduce]") {
  Graph g = training_graph();
  PassStats stats;
  reduced(g, stats, 2, 1 << 20);  // every gradient is small: one bucket of all four
  CHECK(stats.count_of("bucket") == 1);
  CHECK(stats.count_of("bucketed") == 4);
  CHECK(stats.count_of("allreduce") == 0);

  AllreduceOptions tight;
  tight.ranks = 2;
  tight.bucket_below_bytes = 1 << 20;
  // In readiness order fc2/b, fc2/W (12 + 768 B) fit; fc1/b (256 B) would
  // pass 1 KiB, so it and then fc1/W (1 KiB) go alone.
  tight.bucket_bytes = 1024;
  PassStats s2;
  Graph out = insert_allreduce(g, s2, tight);
  verify(out);
  CHECK(s2.count_of("bucket") == 1);
  CHECK(s2.count_of("bucketed") == 2);
  CHECK(s2.count_of("allreduce") == 2);
  NodeId bucket = out.inputs(out.inputs(out.at("grad/fc2/W/allreduced"))[0])[0];
  CHECK(out[bucket].shape == Shape{3 + 64 * 3});
  CHECK(out[out.at("grad/fc1/b/allreduced")].op == OpKind::allreduce_wait);
}

TEST_CASE("allreduce: a bucket packs any number of gradients", "[passes][allreduce]") {
  // Four layers: eight gradients, all small.
  Builder b;
  auto x = b.input("x", {8, 4});
  auto y = b.labels("y", 8, 3);
  auto h = relu(dense(b, x, 16, "fc1"), "fc1/relu");
  h = relu(dense(b, h, 16, "fc2"), "fc2/relu");
  h = relu(dense(b, h, 16, "fc3"), "fc3/relu");
  b.set_loss(softmax_cross_entropy(dense(b, h, 3, "fc4"), y, "loss"));
  Graph g = append_optimizer(run_pipeline(b.graph(), CompileOptions{}).graph, OptimizerOptions{});
  PassStats stats;
  Graph out = reduced(g, stats, 2, 1 << 20);
  CHECK(stats.count_of("bucket") == 1);
  CHECK(stats.count_of("bucketed") == 8);
  std::vector<NodeId> starts = of_op(out, OpKind::allreduce_start);
  REQUIRE(starts.size() == 1);
  CHECK(out.inputs(starts[0]).size() == 8);
}

TEST_CASE("allreduce: Adam's two readers of a gradient both read the reduced one", "[passes][allreduce]") {
  Graph g = training_graph(OptimizerOptions::Kind::adam);
  PassStats stats;
  Graph out = reduced(g, stats, 2);
  for (const char* param : {"fc1/W", "fc2/b"}) {
    INFO(param);
    NodeId reduced_grad = out.at(std::string("grad/") + param + "/allreduced");
    std::vector<NodeId> readers = out.consumers(reduced_grad);
    CHECK(readers.size() == 2);  // ema_update and ema_square_update
    // The unreduced gradient is read by its reduction alone.
    std::vector<NodeId> raw_readers = out.consumers(out.at(std::string("grad/") + param));
    REQUIRE(raw_readers.size() == 1);
    CHECK(out[raw_readers[0]].op == OpKind::allreduce_start);
  }
}

TEST_CASE("allreduce: fuse_update gives way where a gradient must be reduced first", "[passes][allreduce]") {
  Graph g = training_graph();
  PassStats alone_stats;
  fuse_update(g, alone_stats);
  CHECK(alone_stats.count_of("sgd_matmul_update") == 2);  // one process: both weight GEMMs fold

  PassStats stats, fuse_stats;
  Graph out = fuse_update(reduced(g, stats, 2), fuse_stats);
  verify(out);
  CHECK(fuse_stats.count_of("sgd_matmul_update") == 0);
  CHECK(of_op(out, OpKind::sgd_matmul_update).empty());
  CHECK(of_op(out, OpKind::sgd_update).size() == 4);
}

TEST_CASE("allreduce: the schedule starts each reduction after its gradient and the loss, and waits just before "
          "its update",
          "[passes][allreduce][schedule]") {
  Graph g = training_graph();
  PassStats stats;
  Graph out = reduced(g, stats, 2);
  std::vector<NodeId> order = schedule(out);
  verify_schedule(out, order);
  const std::size_t loss = position(order, *out.loss());
  for (NodeId start : of_op(out, OpKind::allreduce_start)) {
    INFO(out[start].name);
    std::size_t after = loss;
    for (NodeId m : out.inputs(start)) after = std::max(after, position(order, m));
    // Right after the last of its gradients (or the loss, whichever is later).
    CHECK(position(order, start) == after + 1);
  }
  for (NodeId wait : of_op(out, OpKind::allreduce_wait)) {
    INFO(out[wait].name);
    std::size_t first_reader = order.size();
    for (NodeId r : out.consumers(wait)) first_reader = std::min(first_reader, position(order, r));
    NodeId start = out.inputs(wait)[0];
    // The reduction overlaps other work: something runs between its start
    // and its wait (except for the last gradient backward makes)...
    if (out.inputs(start)[0] != out.at("grad/fc1/W")) CHECK(position(order, wait) > position(order, start) + 1);
    // ...and the wait comes as late as possible: just before its first reader
    // (a slice of a bucket, then the update).
    if (out[out.consumers(wait)[0]].op == OpKind::allreduce_slice) {
      CHECK(position(order, wait) + 1 == first_reader);
    } else {
      CHECK(position(order, wait) + 1 == first_reader);
      CHECK(out[order[first_reader]].role == Role::update);
    }
  }
  // The weight gradient of the first layer is the last one backward makes:
  // every other reduction has started before it is written.
  const std::size_t last_gradient = position(order, out.at("grad/fc1/W"));
  for (NodeId start : of_op(out, OpKind::allreduce_start))
    if (out.inputs(start)[0] != out.at("grad/fc1/W")) CHECK(position(order, start) < last_gradient);
}

TEST_CASE("allreduce: the schedule verifier refuses a reduction started before the loss",
          "[passes][allreduce][schedule]") {
  // Unfused, the gradients do not read the loss node (the fused loss makes
  // its own gradient, so nothing could start before it).
  Graph g = training_graph(OptimizerOptions::Kind::sgd, /*fuse=*/false);
  PassStats stats;
  Graph out = reduced(g, stats, 2);
  std::vector<NodeId> order = schedule(out);
  // Nothing reads the loss, so it may move later: past every start, still
  // before every update.
  NodeId loss = *out.loss();
  order.erase(order.begin() + static_cast<std::ptrdiff_t>(position(order, loss)));
  std::size_t last_start = 0;
  for (NodeId start : of_op(out, OpKind::allreduce_start)) last_start = std::max(last_start, position(order, start));
  order.insert(order.begin() + static_cast<std::ptrdiff_t>(last_start + 1), loss);
  CHECK_THROWS_WITH(verify_schedule(out, order), Catch::Contains("runs before the loss"));
}
