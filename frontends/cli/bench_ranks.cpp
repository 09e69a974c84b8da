#include "bench_ranks.hpp"

#include <cstdio>
#include <iostream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_common.hpp"
#include "frontends/train/data_parallel.hpp"
#include "frontends/train/model_graph.hpp"
#include "graph/error.hpp"
#include "runtime/comm/broadcast_params.hpp"
#include "runtime/comm/timed_communicator.hpp"
#include "runtime/plan.hpp"
#include "runtime/threads.hpp"

namespace kiln::cli {
namespace {

// The leading dimension of the first input: the batch.
std::int64_t batch_of(const Graph& g) {
  for (NodeId id : g.ids())
    if (g[id].op == OpKind::input && g[id].shape.rank() > 0) return g[id].shape[0];
  return 0;
}

// A buffer per param, as large as its gradient: what the plan's sums move.
std::vector<Tensor> gradient_buffers(const Graph& g) {
  std::vector<Tensor> buffers;
  for (NodeId id : g.ids())
    if (g[id].op == OpKind::param) buffers.emplace_back(g[id].shape, g[id].dtype);
  return buffers;
}

// `run` timed on every rank at once: the ranks start each sample together
// (they run in lockstep anyway, each step's sums waiting for the slowest);
// a sample is the mean of the ranks' times.
template <class F>
Spread time_together(Communicator& world, int warmup, int reps, F&& run) {
  for (int i = 0; i < warmup; ++i) run();
  std::vector<double> samples(static_cast<std::size_t>(reps));
  for (double& s : samples) {
    world.barrier();
    const Clock::time_point start = Clock::now();
    run();
    s = seconds_since(start);
    world.allreduce_sum(&s, 1, DType::f64);
    s /= world.size();
  }
  return spread_of(std::move(samples));
}

}  // namespace

void run_ranks_bench(const RanksBench& bench, const std::shared_ptr<Communicator>& world) {
  const int ranks = world->size();
  const std::int64_t global_batch = batch_of(bench.model);
  const std::int64_t per_rank = train::rows_per_rank(global_batch, ranks);
  const Graph graph = train::edit_graph(bench.model, {.batch = per_rank});
  set_threads(bench.threads);

  PlanOptions options;
  options.compile.fuse = bench.fuse;
  options.optimizer = OptimizerOptions{};
  options.optimizer->lr = bench.lr;
  options.seed = bench.seed;
  Plan alone = compile(graph, options);
  // The step's own sums timed where the plan makes them.
  const auto timed = std::make_shared<TimedCommunicator>(world);
  options.communicator = timed;
  Plan parallel = compile(graph, options);
  broadcast_params(*world, parallel.params());
  feed_every_input(alone);
  feed_every_input(parallel);

  // Per step: waiting for the gradient sums (what the backward pass did not
  // hide), starting them, and the loss's blocking sum; medians, like the
  // step's, so that a rank descheduled now and then does not swamp them.
  std::vector<double> waits, starts, blockings;
  TimedCommunicator::Times in_step;
  const Spread step = time_together(*world, bench.warmup, bench.steps, [&] {
    timed->reset();
    parallel.step();
    in_step = timed->times();
    waits.push_back(in_step.wait_seconds);
    starts.push_back(in_step.start_seconds);
    blockings.push_back(in_step.blocking_seconds);
  });
  const double waiting = spread_of(waits).median, starting = spread_of(starts).median,
               blocking = spread_of(blockings).median;
  const std::size_t step_bytes = in_step.bytes_reduced;
  const Spread compute = time_together(*world, bench.warmup, bench.steps, [&alone] { alone.step(); });
  std::vector<Tensor> gradients = gradient_buffers(graph);
  std::size_t bytes = 0;
  for (const Tensor& t : gradients) bytes += t.bytes();
  const Spread sums = time_together(*world, bench.warmup, bench.steps, [&] {
    for (Tensor& t : gradients) world->allreduce_sum(t.raw(), t.numel(), t.dtype());
  });
  double flag[2] = {0, 0};
  const Spread small = time_together(*world, bench.warmup, bench.steps, [&] { world->allreduce_sum(flag, 2, DType::f64); });
  if (world->rank() != 0) return;

  const double overhead = step.median - compute.median;
  if (bench.json) {
    nlohmann::ordered_json out;
    out["model"] = bench.name;
    out["ranks"] = ranks;
    out["batch"] = global_batch;
    out["batch_per_rank"] = per_rank;
    out["threads"] = bench.threads;
    out["fused"] = bench.fuse;
    out["steps"] = bench.steps;
    out["warmup"] = bench.warmup;
    out["cpu"] = bench.cpu;
    out["step_us"] = {{"min", step.min * 1e6}, {"median", step.median * 1e6}, {"max", step.max * 1e6}};
    out["steps_per_s"] = 1.0 / step.median;
    out["compute_us"] = {{"min", compute.min * 1e6}, {"median", compute.median * 1e6}, {"max", compute.max * 1e6}};
    out["allreduce_bytes"] = bytes;
    out["allreduce_calls"] = gradients.size();
    out["allreduce_us"] = {{"min", sums.min * 1e6}, {"median", sums.median * 1e6}, {"max", sums.max * 1e6}};
    out["small_allreduce_us"] = small.median * 1e6;
    out["step_minus_compute_us"] = overhead * 1e6;
    out["in_step"] = {{"wait_us", waiting * 1e6},
                      {"start_us", starting * 1e6},
                      {"blocking_us", blocking * 1e6},
                      {"reductions", in_step.starts},
                      {"bytes", step_bytes}};
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::ostringstream os;
  char line[512];
  os << "model " << bench.name << ", batch " << global_batch << " = " << ranks << " ranks x " << per_rank << ", "
     << bench.threads << " thread" << (bench.threads == 1 ? "" : "s") << " each, " << (bench.fuse ? "fused" : "unfused")
     << " (" << bench.cpu << ")\n";
  os << "step         min " << with_unit(step.min) << ", median " << with_unit(step.median) << ", max "
     << with_unit(step.max) << " over " << bench.steps << " steps after " << bench.warmup
     << " warm-up (mean over the ranks)\n";
  std::snprintf(line, sizeof line, "throughput   %.1f steps/s, %.0f rows/s\n", 1.0 / step.median,
                static_cast<double>(global_batch) / step.median);
  os << line;
  os << "compute      median " << with_unit(compute.median) << ": the same " << per_rank
     << "-row step without gradient sums, every rank at once\n";
  os << "in the step  median " << with_unit(waiting) << " waiting for its " << in_step.starts << " gradient sums ("
     << bytes_text(step_bytes) << " with the loss), " << with_unit(starting) << " starting them, "
     << with_unit(blocking) << " in the loss's sum (rank 0)\n";
  os << "allreduce    median " << with_unit(sums.median) << ": the " << gradients.size() << " gradients ("
     << bytes_text(bytes) << ") summed alone, one blocking call each\n";
  os << "             median " << with_unit(small.median) << ": one 16 B sum (kiln train's stop flag, once a step)\n";
  std::snprintf(line, sizeof line, "overhead     step - compute = %s (%.0f%% of the step)\n", with_unit(overhead).c_str(),
                step.median > 0 ? 100.0 * overhead / step.median : 0.0);
  os << line;
  std::cout << os.str();
}

}  // namespace kiln::cli
