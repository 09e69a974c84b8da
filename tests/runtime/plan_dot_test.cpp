// What `kiln dot --stage planned` shows of a plan.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "frontends/models.hpp"
#include "graph/dot.hpp"
#include "runtime/plan.hpp"
#include "runtime/plan_dot.hpp"

namespace {

bool has_line(const kiln::DotOptions& d, kiln::NodeId id, const std::string& prefix) {
  auto it = d.extra_lines.find(id);
  if (it == d.extra_lines.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
}

}  // namespace

TEST_CASE("plan dot: every node says where its value lives", "[plan][dot]") {
  kiln::PlanOptions options;
  options.optimizer = kiln::OptimizerOptions{};
  kiln::Plan plan = kiln::compile(kiln::build_model("mlp"), options);
  kiln::DotOptions dot = kiln::planned_dot_options(plan);
  const kiln::Graph& g = plan.graph();
  CHECK(dot.title.find(plan.memory().summary()) != std::string::npos);

  for (const kiln::BufferPlan& b : plan.memory().buffers) {
    INFO(g[b.node].name);
    CHECK(has_line(dot, b.node, "offset " + std::to_string(b.offset) + ", " + std::to_string(b.bytes) + " B"));
    if (b.reuses) CHECK(has_line(dot, b.node, "in place of " + g[*b.reuses].name));
  }
  CHECK(has_line(dot, g.at("x"), "fed"));
  CHECK(has_line(dot, g.at("loss"), "kept to the end"));
  CHECK(has_line(dot, g.at("update/fc1/W"), "writes fc1/W in place"));
  CHECK(has_line(dot, g.at("fc1/W"), "param store, " + std::to_string(784 * 100 * 4) + " B"));
  // The loss's gradient is written by the two-output loss node, before its own step.
  kiln::NodeId dz = *g.projection(g.at("loss"), 1);
  CHECK(has_line(dot, dz, "written at step " + std::to_string(plan.memory().buffer(dz).first) + " by loss"));

  // Fused nodes and in-place chains are boxed.
  std::size_t fused = 0;
  for (kiln::NodeId id : g.ids())
    if (g[id].info().category == kiln::Category::fused) {
      ++fused;
      CHECK(dot.cluster.count(id) == 1);
    }
  CHECK(fused > 0);
  for (const kiln::BufferPlan& b : plan.memory().buffers)
    if (b.reuses) {
      REQUIRE(dot.cluster.count(b.node) == 1);
      CHECK(dot.cluster.at(b.node) == dot.cluster.at(*b.reuses));
    }

  std::string text = kiln::to_dot(g, dot);
  CHECK(text.find("offset ") != std::string::npos);
  CHECK(text.find("subgraph cluster_") != std::string::npos);
}
