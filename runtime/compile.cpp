// kiln::compile: the pipeline, the optimizer update, the schedule and the
// memory plan, handed to a Plan. The passes decide; this file only strings
// them together and records what each did.
#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "graph/error.hpp"
#include "graph/verify.hpp"
#include "passes/allreduce.hpp"
#include "passes/fuse_update.hpp"
#include "passes/liveness.hpp"
#include "passes/schedule.hpp"
#include "runtime/kernel_scratch.hpp"
#include "runtime/plan.hpp"

namespace kiln {
namespace {

// As run_pipeline decides it, so one switch covers every stage.
bool verify_requested(const CompileOptions& o) {
  if (o.verify_each_pass) return true;
  const char* env = std::getenv("KILN_VERIFY_EVERY_PASS");
  return env && *env && std::string_view(env) != "0";
}

// The verifier after a pass that runs outside run_pipeline, naming the pass
// as run_pipeline does.
void verify_after(const Graph& g, const std::string& pass) {
  try {
    verify(g);
  } catch (const Error& e) {
    throw Error("after pass '" + pass + "': " + e.what());
  }
}

Graph with_optimizer(const Graph& g, const PlanOptions& options, std::vector<PassStats>& stats, bool verify_each) {
  if (!options.compile.differentiate)
    throw Error("an optimizer update needs gradients, but compile.differentiate is false");
  PassStats s;
  s.pass = "optimizer_update";
  s.nodes_before = g.size();
  Graph out = append_optimizer(g, *options.optimizer);
  s.nodes_after = out.size();
  int updates = 0;
  for (NodeId id : out.ids())
    if (out[id].info().category == Category::update && overwritten_persistent(out, id)) ++updates;
  s.count(std::string(optimizer_name(options.optimizer->kind)), updates);
  stats.push_back(std::move(s));
  if (verify_each) verify_after(out, "optimizer_update");
  return out;
}

// With N > 1 ranks every gradient is averaged over them before its update
// (passes/allreduce.hpp); before fuse_update, which then leaves those
// gradients unfolded.
Graph with_allreduce(const Graph& g, const PlanOptions& options, std::vector<PassStats>& stats, bool verify_each) {
  PassStats s;
  s.pass = "allreduce";
  AllreduceOptions o;
  o.ranks = options.communicator->size();
  o.bucket_below_bytes = options.allreduce_bucket_below_bytes;
  o.bucket_bytes = options.allreduce_bucket_bytes;
  Graph out = insert_allreduce(g, s, o);
  stats.push_back(std::move(s));
  if (verify_each) verify_after(out, "allreduce");
  return out;
}

// Folds each SGD weight-gradient GEMM into its update (passes/fuse_update.hpp).
// After the optimizer, since it fuses across the gradient and the update.
Graph with_fused_updates(const Graph& g, const PlanOptions& options, std::vector<PassStats>& stats,
                         bool verify_each) {
  PassStats s;
  s.pass = "fuse_update";
  Graph out = fuse_update(g, s, PassOptions{options.compile.outputs});
  stats.push_back(std::move(s));
  if (verify_each) verify_after(out, "fuse_update");
  return out;
}

// Refused here, before the Plan allocates, so that a batch too large for the
// machine is an error message rather than the OS killing the process.
void check_memory_limit(const PlanMemory& needs, std::size_t max_memory_bytes) {
  const bool is_default = max_memory_bytes == 0;
  const std::size_t limit = is_default ? default_max_memory_bytes() : max_memory_bytes;
  if (needs.total_bytes() <= limit) return;
  throw MemoryLimitExceeded("the plan needs " + needs.summary() + " but --max-memory allows " + format_bytes(limit) +
              (is_default ? " (the default: half of physical memory)" : "") +
              "; use a smaller batch, or raise --max-memory (PlanOptions::max_memory_bytes)");
}

}  // namespace

Plan compile(const Graph& g, const PlanOptions& options) { return compile(g, options, nullptr); }

Plan compile(const Graph& g, const PlanOptions& options, std::shared_ptr<ParamStore> params) {
  const bool verify_each = verify_requested(options.compile);
  CompiledGraph compiled = run_pipeline(g, options.compile);
  Graph graph = std::move(compiled.graph);
  std::vector<PassStats> stats = std::move(compiled.stats);
  if (options.optimizer) graph = with_optimizer(graph, options, stats, verify_each);
  if (options.communicator && options.communicator->size() > 1 && options.compile.differentiate)
    graph = with_allreduce(graph, options, stats, verify_each);
  if (options.optimizer) {
    // Not when checking numerics: each node's output is checked after it runs,
    // and a weight gradient folded into its update would be seen only once
    // it had been written into the param.
    if (options.compile.fuse && !options.check_numerics)
      graph = with_fused_updates(graph, options, stats, verify_each);
  }

  ScheduleOptions schedule_options;
  for (const std::string& name : options.compile.outputs) schedule_options.outputs.push_back(graph.at(name));

  PassStats schedule_stats;
  schedule_stats.pass = "schedule";
  schedule_stats.nodes_before = graph.size();
  ScheduleReport report = schedule_with_report(graph, schedule_options);
  schedule_stats.nodes_after = report.order.size();
  if (!report.dropped.empty()) schedule_stats.count("dropped", static_cast<int>(report.dropped.size()));
  stats.push_back(std::move(schedule_stats));
  if (verify_each) verify_schedule(graph, report.order);

  // Fed slots stay live for the whole step, so a batch written before one
  // step is intact after it: it can be read back or stepped again, and the
  // next batch can be written without clobbering the values just computed.
  // (Only for the memory plan: as schedule outputs they would change which
  // nodes the schedule counts as needed.)
  MemoryOptions memory_options;
  memory_options.outputs = schedule_options.outputs;
  memory_options.scratch_bytes = node_scratch_bytes;
  for (NodeId id : report.order)
    if (is_fed(graph, id) && std::find(memory_options.outputs.begin(), memory_options.outputs.end(), id) ==
                                 memory_options.outputs.end())
      memory_options.outputs.push_back(id);
  MemoryPlan memory = plan_memory(graph, report.order, memory_options);
  PassStats memory_stats;
  memory_stats.pass = "memory_plan";
  memory_stats.nodes_before = memory_stats.nodes_after = report.order.size();
  memory_stats.count("buffers", static_cast<int>(memory.buffers.size()));
  memory_stats.count("in_place", static_cast<int>(std::count_if(memory.buffers.begin(), memory.buffers.end(),
                                                                 [](const BufferPlan& b) { return b.reuses; })));
  stats.push_back(std::move(memory_stats));
  check_memory_limit(plan_memory_needs(graph, memory), options.max_memory_bytes);
  // The Plan checks the memory plan itself (verify_memory_plan) whatever the
  // options say: a wrong offset would corrupt memory silently.
  Plan plan(std::move(graph), std::move(report.order), std::move(memory), std::move(stats), std::move(params),
            options.seed, options.communicator);
  plan.set_check_numerics(options.check_numerics);
  plan.set_stop_on_non_finite_loss(options.stop_on_non_finite_loss);
  return plan;
}

}  // namespace kiln
