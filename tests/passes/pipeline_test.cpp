// The one pass list (passes/pipeline.cpp): which passes run for which
// options, what schedule and memory_plan leave in the CompiledGraph, the
// options it refuses, and a dump after every pass.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "frontends/builder.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"
#include "passes/memory_plan.hpp"
#include "passes/pipeline.hpp"
#include "passes/schedule.hpp"

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

const std::vector<std::string> kAllPasses = {"verify",   "fuse_forward",     "autodiff",  "fuse_backward",
                                             "simplify", "optimizer_update", "allreduce", "fuse_update",
                                             "schedule", "memory_plan"};

std::vector<std::string> passes_run(const CompiledGraph& c) {
  std::vector<std::string> names;
  for (const PassStats& s : c.stats) names.push_back(s.pass);
  return names;
}

const PassStats* stats_of(const CompiledGraph& c, const std::string& pass) {
  for (const PassStats& s : c.stats)
    if (s.pass == pass) return &s;
  return nullptr;
}

CompileOptions training_step(bool plan_memory) {
  CompileOptions o;
  o.optimizer = OptimizerOptions{};
  o.plan_memory = plan_memory;
  o.verify_each_pass = true;
  return o;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// x [4, 3] -> relu -> sum: a forward-only graph whose input is read once.
Graph relu_sum() {
  Builder b;
  Value x = b.input("x", {4, 3});
  b.set_loss(sum(relu(x, "r"), std::nullopt, "loss"));
  return b.graph();
}

}  // namespace

TEST_CASE("pipeline: every pass from verify to the memory plan is one list, in order", "[pipeline]") {
  CHECK(pipeline_pass_names() == kAllPasses);
}

TEST_CASE("pipeline: without an optimizer or a plan it stops at the simplified graph", "[pipeline]") {
  CompiledGraph backward = run_pipeline(build_model("mlp"));
  CHECK(passes_run(backward) ==
        std::vector<std::string>{"verify", "fuse_forward", "autodiff", "fuse_backward", "simplify"});
  CHECK_FALSE(backward.schedule.has_value());
  CHECK_FALSE(backward.memory.has_value());

  CompileOptions forward;
  forward.differentiate = false;
  CompiledGraph fused = run_pipeline(build_model("mlp"), forward);
  CHECK(passes_run(fused) == std::vector<std::string>{"verify", "fuse_forward", "simplify"});
  CHECK_FALSE(fused.schedule.has_value());
}

TEST_CASE("pipeline: a training step runs every pass but allreduce and leaves a checked schedule and arena",
          "[pipeline]") {
  CompiledGraph c = run_pipeline(build_model("mlp"), training_step(true));
  std::vector<std::string> expected = kAllPasses;
  expected.erase(std::find(expected.begin(), expected.end(), "allreduce"));
  CHECK(passes_run(c) == expected);
  REQUIRE(c.schedule.has_value());
  REQUIRE(c.memory.has_value());
  CHECK_NOTHROW(verify_schedule(c.graph, c.schedule->order));
  CHECK_NOTHROW(verify_memory_plan(c.graph, c.schedule->order, *c.memory));

  CHECK(stats_of(c, "optimizer_update")->count_of("sgd") == 6);  // three layers, W and b each
  CHECK(stats_of(c, "fuse_update")->count_of("sgd_matmul_update") == 3);
  CHECK(stats_of(c, "schedule")->nodes_after == c.schedule->order.size());
  CHECK(stats_of(c, "schedule")->count_of("dropped") == static_cast<int>(c.schedule->dropped.size()));
  CHECK(stats_of(c, "memory_plan")->count_of("buffers") == static_cast<int>(c.memory->buffers.size()));
  CHECK(stats_of(c, "memory_plan")->count_of("in_place") > 0);
}

TEST_CASE("pipeline: schedule alone leaves no memory plan, and keep_weight_gradients skips fuse_update",
          "[pipeline]") {
  CompileOptions o = training_step(false);
  o.schedule = true;
  o.keep_weight_gradients = true;
  CompiledGraph c = run_pipeline(build_model("mlp"), o);
  REQUIRE(c.schedule.has_value());
  CHECK_FALSE(c.memory.has_value());
  CHECK(stats_of(c, "fuse_update") == nullptr);
  CHECK(stats_of(c, "memory_plan") == nullptr);
  CHECK(stats_of(c, "schedule") != nullptr);
  CHECK(c.graph.find("grad/fc1/W").has_value());
}

TEST_CASE("pipeline: allreduce runs with more than one rank and refuses fewer than one", "[pipeline]") {
  CompileOptions o = training_step(true);
  o.allreduce.ranks = 2;
  CompiledGraph c = run_pipeline(build_model("mlp"), o);
  const PassStats* reduce = stats_of(c, "allreduce");
  REQUIRE(reduce);
  CHECK(reduce->count_of("allreduce") > 0);
  // The reduced gradients are read by a collective, so no update folds its GEMM.
  CHECK(stats_of(c, "fuse_update")->count_of("sgd_matmul_update") == 0);

  o.allreduce.ranks = 0;
  CHECK_THROWS_WITH(run_pipeline(build_model("mlp"), o), Contains("at least 1 rank, found 0"));
}

TEST_CASE("pipeline: fed values survive the step unless keep_fed_values is off", "[pipeline]") {
  CompileOptions o;
  o.differentiate = false;
  o.plan_memory = true;
  const Graph g = relu_sum();
  CompiledGraph kept = run_pipeline(g, o);
  const int last_step = static_cast<int>(kept.schedule->order.size()) - 1;
  CHECK(kept.memory->buffer(kept.graph.at("x")).last == last_step);

  o.keep_fed_values = false;
  CompiledGraph dropped = run_pipeline(g, o);
  CHECK(dropped.memory->buffer(dropped.graph.at("x")).last < last_step);
}

TEST_CASE("pipeline: options the passes cannot honour are refused by name", "[pipeline]") {
  CompileOptions no_grad;
  no_grad.differentiate = false;
  no_grad.optimizer = OptimizerOptions{};
  CHECK_THROWS_WITH(run_pipeline(build_model("mlp"), no_grad),
                    Contains("an optimizer update needs gradients") && Contains("differentiate"));

  CompileOptions ids;
  ids.plan_memory = true;
  ids.memory.outputs = {0};
  CHECK_THROWS_WITH(run_pipeline(build_model("mlp"), ids),
                    Contains("memory.outputs") && Contains("CompileOptions::outputs"));

  CompileOptions unknown;
  unknown.dump_after = "polish";
  unknown.dump_path = "x.dot";
  CHECK_THROWS_WITH(run_pipeline(build_model("mlp"), unknown),
                    Contains("'polish'") && Contains("schedule") && Contains("memory_plan"));
}

TEST_CASE("pipeline: a DOT dump after any pass, with steps after schedule and offsets after memory_plan",
          "[pipeline]") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kiln-pipeline-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const std::string& pass : pipeline_pass_names()) {
    INFO(pass);
    CompileOptions o = training_step(true);
    o.dump_after = pass;
    o.dump_path = (dir / (pass + ".dot")).string();
    run_pipeline(build_model("mlp"), o);
    const std::string dot = read_text(o.dump_path);
    CHECK_THAT(dot, Catch::StartsWith("digraph"));
    CHECK_THAT(dot, Contains("after " + pass));
    const bool scheduled = pass == "schedule" || pass == "memory_plan";
    CHECK((dot.find("step 0") != std::string::npos) == scheduled);
    CHECK((dot.find("offset ") != std::string::npos) == (pass == "memory_plan"));
  }
  std::filesystem::remove_all(dir);
}
