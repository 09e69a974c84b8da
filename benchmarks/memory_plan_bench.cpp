// Schedule + memory plan of the seed models: how long planning takes, and
// the figures it reports (counters: arena, lower bound, naive bytes,
// efficiency, peak of the schedule vs creation order).
#include <benchmark/benchmark.h>

#include <string>

#include "frontends/models.hpp"
#include "passes/autodiff.hpp"
#include "passes/memory_plan.hpp"
#include "passes/schedule.hpp"

namespace {

kiln::Graph model(const std::string& name, std::int64_t batch, bool backward, std::size_t hidden_layers = 0) {
  kiln::ModelOptions options;
  options.batch = batch;
  if (hidden_layers > 0) options.hidden.assign(hidden_layers, 256);
  kiln::Graph g = kiln::build_model(name, options);
  return backward ? kiln::autodiff(g) : g;
}

void plan(benchmark::State& state, const kiln::Graph& g) {
  kiln::ScheduleReport report;
  kiln::MemoryPlan memory;
  for (auto _ : state) {
    report = kiln::schedule_with_report(g);
    memory = kiln::plan_memory(g, report.order);
    benchmark::DoNotOptimize(memory.arena_bytes);
  }
  state.counters["nodes"] = static_cast<double>(g.size());
  state.counters["arena"] = static_cast<double>(memory.arena_bytes);
  state.counters["lower_bound"] = static_cast<double>(memory.lower_bound);
  state.counters["naive"] = static_cast<double>(memory.naive_bytes);
  state.counters["efficiency"] = memory.efficiency();
  state.counters["peak_schedule"] = static_cast<double>(report.peak_bytes);
  state.counters["peak_creation"] = static_cast<double>(report.creation_order_peak_bytes);
  state.SetLabel(report.chosen + "; " + memory.placement);
}

void register_all() {
  for (const std::string& name : kiln::model_names())
    for (std::int64_t batch : {32, 256})
      for (bool backward : {false, true}) {
        std::string label = "plan/" + name + "/" + std::to_string(batch) + (backward ? "/train" : "/forward");
        kiln::Graph g = model(name, batch, backward);
        benchmark::RegisterBenchmark(label.c_str(), [g](benchmark::State& s) { plan(s, g); });
      }
  // A deep MLP: how planning time grows with the graph.
  for (std::size_t layers : {8, 32, 128}) {
    std::string label = "plan/mlp-deep/" + std::to_string(layers) + "x256/train";
    kiln::Graph g = model("mlp", 64, true, layers);
    benchmark::RegisterBenchmark(label.c_str(), [g](benchmark::State& s) { plan(s, g); })
        ->Unit(benchmark::kMillisecond);
  }
}

const bool registered = (register_all(), true);

}  // namespace
