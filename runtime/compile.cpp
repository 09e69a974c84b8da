// kiln::compile: the options mapped onto run_pipeline's, whose schedule and
// memory plan are handed to a Plan. The passes decide (passes/pipeline.cpp
// lists them all); this file only adds what the runtime knows.
#include "graph/error.hpp"
#include "passes/pipeline.hpp"
#include "runtime/kernel_scratch.hpp"
#include "runtime/plan.hpp"

namespace kiln {
namespace {

// What the pipeline needs to know of the runtime: the optimizer, the rank
// count, whether numerics are checked, and that a Plan needs a schedule and
// an arena.
CompileOptions pipeline_options(const PlanOptions& options) {
  CompileOptions c = options.compile;
  if (options.optimizer) c.optimizer = options.optimizer;
  // The Plan reduces over its communicator alone, so the graph must divide
  // by that many ranks, whatever compile.allreduce says.
  c.allreduce.ranks = options.communicator ? options.communicator->size() : 1;
  c.allreduce.bucket_below_bytes = options.allreduce_bucket_below_bytes;
  c.allreduce.bucket_bytes = options.allreduce_bucket_bytes;
  // Each node's output is checked after it runs, and a weight gradient folded
  // into its update would be seen only once it had been written into the param.
  if (options.check_numerics) c.keep_weight_gradients = true;
  c.plan_memory = true;
  c.keep_fed_values = true;
  c.memory.scratch_bytes = node_scratch_bytes;
  return c;
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
  CompiledGraph compiled = run_pipeline(g, pipeline_options(options));
  check_memory_limit(plan_memory_needs(compiled.graph, *compiled.memory), options.max_memory_bytes);
  // The Plan checks the memory plan itself (verify_memory_plan) whatever the
  // options say: a wrong offset would corrupt memory silently.
  Plan plan(std::move(compiled.graph), std::move(compiled.schedule->order), std::move(*compiled.memory),
            std::move(compiled.stats), std::move(params), options.seed, options.communicator);
  plan.set_check_numerics(options.check_numerics);
  plan.set_stop_on_non_finite_loss(options.stop_on_non_finite_loss);
  return plan;
}

}  // namespace kiln
