// The planned runtime against the reference Executor: same graph, same seed,
// same feeds; the loss and every param gradient must agree. The reference
// runs autodiff's plain backward graph, each node in its own buffer; the
// plan runs the whole pipeline (fused or not), a schedule and one arena with
// in-place reuse.
#include <catch2/catch.hpp>

#include <string>

#include "frontends/models.hpp"
#include "passes/autodiff.hpp"
#include "passes/schedule.hpp"
#include "plan_support.hpp"
#include "runtime/executor.hpp"
#include "runtime/kernel_scratch.hpp"
#include "runtime/plan.hpp"
#include "tests/passes/random_graphs.hpp"

namespace {

using kiln::test::check_agrees;
using kiln::test::plan_tolerance;

constexpr std::uint64_t kSeed = 42;

// Compares loss and gradients of `forward` (a graph with a loss) between the
// reference and a plan compiled with `fuse`, differentiating `wrt` (empty:
// every param). Returns the number of gradients compared.
std::size_t compare_with_reference(const kiln::Graph& forward, bool fuse, std::uint64_t feed_seed,
                                   const std::vector<std::string>& wrt = {}) {
  kiln::Graph reference_graph = kiln::autodiff(forward, kiln::AutodiffOptions{wrt});
  kiln::Executor reference(reference_graph, kSeed);
  kiln::test::Feeds feeds = kiln::test::random_feeds(forward, feed_seed);
  const double reference_loss = reference.step(feeds);

  kiln::PlanOptions options;
  options.compile.fuse = fuse;
  options.compile.verify_each_pass = true;
  options.compile.wrt = wrt;
  options.seed = kSeed;
  // Random graphs may take log(0): a NaN must then meet the reference's NaN.
  options.stop_on_non_finite_loss = false;
  kiln::Plan plan = kiln::compile(forward, options);
  const double loss = plan.step(feeds);

  const kiln::DType dtype = forward[*forward.loss()].dtype;
  check_agrees({loss}, {reference_loss}, plan_tolerance(dtype), "loss");
  std::size_t compared = 0;
  for (const auto& [of, grad] : reference_graph.gradients()) {
    const std::string& name = reference_graph[of].name;
    check_agrees(plan.gradient(name), reference.value(grad), "gradient of " + name);
    ++compared;
  }
  return compared;
}

}  // namespace

TEST_CASE("plan: the seed models agree with the reference executor, fused and unfused", "[plan]") {
  for (const std::string& model : kiln::model_names())
    for (kiln::DType dtype : {kiln::DType::f32, kiln::DType::f64})
      for (bool fuse : {true, false}) {
        kiln::ModelOptions mo;
        mo.dtype = dtype;
        INFO(model << " " << kiln::dtype_name(dtype) << (fuse ? " fused" : " unfused"));
        kiln::Graph g = kiln::build_model(model, mo);
        std::size_t params = 0;
        for (kiln::NodeId id : g.ids()) params += g[id].op == kiln::OpKind::param;
        CHECK(compare_with_reference(g, fuse, 7) == params);
      }
}

TEST_CASE("plan: random graphs agree with the reference executor, fused and unfused", "[plan]") {
  int compared_graphs = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    // The params the loss reads, as random_graph differentiates them.
    kiln::testing::RandomGraphOptions ro;
    ro.seed = seed;
    ro.backward = true;
    kiln::Graph with_backward = kiln::testing::random_graph(ro);
    std::vector<std::string> wrt;
    for (const auto& [of, grad] : with_backward.gradients()) wrt.push_back(with_backward[of].name);
    if (wrt.empty()) continue;
    ro.backward = false;
    kiln::Graph forward = kiln::testing::random_graph(ro);
    for (bool fuse : {true, false}) {
      INFO("random graph seed " << seed << (fuse ? " fused" : " unfused"));
      CHECK(compare_with_reference(forward, fuse, seed, wrt) == wrt.size());
    }
    ++compared_graphs;
  }
  CHECK(compared_graphs >= 45);
}

TEST_CASE("plan: a forward-only plan computes what the executor computes, outputs included", "[plan]") {
  kiln::ModelOptions mo;
  mo.batch = 64;
  kiln::Graph g = kiln::build_model("mlp", mo);
  kiln::test::Feeds feeds = kiln::test::random_feeds(g, 3);
  kiln::Executor reference(g, kSeed);
  const double reference_loss = reference.step(feeds);

  kiln::PlanOptions options;
  options.compile.differentiate = false;
  options.compile.outputs = {"fc1/relu", "fc3/add"};
  options.seed = kSeed;
  kiln::Plan plan = kiln::compile(g, options);
  check_agrees({plan.step(feeds)}, {reference_loss}, 1e-5, "loss");
  check_agrees(plan.value("fc1/relu"), reference.value("fc1/relu"), "fc1/relu");
  check_agrees(plan.value("fc3/add"), reference.value("fc3/add"), "logits fc3/add");
  check_agrees(plan.value("x"), reference.value("x"), "fed input x");
  for (kiln::NodeId id : plan.graph().ids()) CHECK(plan.graph()[id].role == kiln::Role::forward);
}

TEST_CASE("plan: without in-place reuse or with it, the same values", "[plan]") {
  // The public constructor takes any checked schedule and memory plan; one
  // without in-place sharing is a second, independent layout.
  kiln::ModelOptions mo;
  mo.dtype = kiln::DType::f64;
  mo.batch = 16;
  kiln::Graph g = kiln::build_model("spiral-net", mo);
  kiln::test::Feeds feeds = kiln::test::random_feeds(g, 11);
  kiln::PlanOptions options;
  options.seed = kSeed;
  kiln::Plan shared = kiln::compile(g, options);
  const double loss = shared.step(feeds);

  kiln::MemoryOptions no_reuse;
  no_reuse.in_place = false;
  no_reuse.scratch_bytes = kiln::node_scratch_bytes;
  for (kiln::NodeId id : shared.order())
    if (kiln::is_fed(shared.graph(), id)) no_reuse.outputs.push_back(id);
  kiln::MemoryPlan memory = kiln::plan_memory(shared.graph(), shared.order(), no_reuse);
  kiln::Plan separate(shared.graph(), shared.order(), memory, {}, nullptr, kSeed);
  CHECK(separate.step(feeds) == loss);
  for (const std::string& p : {"fc1/W", "fc1/b", "fc2/W", "fc2/b"})
    check_agrees(separate.gradient(p).values(), shared.gradient(p).values(), 0.0, "gradient of " + p);
  std::size_t in_place = 0;
  for (const kiln::BufferPlan& b : shared.memory().buffers) in_place += b.reuses.has_value();
  CHECK(in_place > 0);  // the comparison exercised in-place kernels
}
