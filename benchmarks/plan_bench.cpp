// The compiled Plan: steady-state time of one training step (forward,
// backward, SGD update) of each seed model, fused and unfused, at batch 32
// and 256, on 1 and 2 threads (kiln::set_threads), and how long compile()
// takes. Counters: the arena and its lower
// bound and naive size (bytes), and GFLOP/s counting 6·N·Σ in·out for the
// dense layers (2 for the forward GEMM, 4 for the two backward ones).
#include <benchmark/benchmark.h>

#include <string>

#include "frontends/models.hpp"
#include "runtime/plan.hpp"
#include "runtime/tensor.hpp"
#include "runtime/threads.hpp"

namespace {

kiln::Graph model(const std::string& name, std::int64_t batch) {
  kiln::ModelOptions options;
  options.batch = batch;
  return kiln::build_model(name, options);
}

kiln::PlanOptions training(bool fuse) {
  kiln::PlanOptions options;
  options.compile.fuse = fuse;
  options.optimizer = kiln::OptimizerOptions{};
  return options;
}

// Σ in·out over the 2-D params (the dense layers' weights).
double dense_macs_per_row(const kiln::Graph& g) {
  double total = 0;
  for (kiln::NodeId id : g.ids()) {
    const kiln::Node& n = g[id];
    if (n.op == kiln::OpKind::param && n.shape.rank() == 2) total += static_cast<double>(n.shape[0] * n.shape[1]);
  }
  return total;
}

// Deterministic, in-range inputs: the figures do not depend on the data.
void feed_batch(kiln::Plan& plan, const kiln::Graph& g) {
  for (kiln::NodeId id : g.ids()) {
    const kiln::Node& n = g[id];
    if (n.op != kiln::OpKind::input && n.op != kiln::OpKind::labels) continue;
    kiln::Tensor t(n.shape, n.dtype);
    for (std::size_t i = 0; i < t.numel(); ++i)
      t.set(i, n.op == kiln::OpKind::labels ? static_cast<double>(i % static_cast<std::size_t>(n.attrs.classes))
                                            : static_cast<double>(i % 17) / 17.0 - 0.5);
    plan.feed(n.name, t);
  }
}

void step(benchmark::State& state, const std::string& name, std::int64_t batch, bool fuse, int threads) {
  kiln::set_threads(threads);
  kiln::Graph g = model(name, batch);
  kiln::Plan plan = kiln::compile(g, training(fuse));
  feed_batch(plan, g);
  plan.step();
  double loss = 0;
  for (auto _ : state) {
    loss = plan.step();
    benchmark::DoNotOptimize(loss);
  }
  const kiln::MemoryPlan& m = plan.memory();
  state.counters["arena_bytes"] = static_cast<double>(m.arena_bytes);
  state.counters["lower_bound"] = static_cast<double>(m.lower_bound);
  state.counters["naive_bytes"] = static_cast<double>(m.naive_bytes);
  state.counters["efficiency"] = m.efficiency();
  state.counters["kernel_calls"] = static_cast<double>(plan.kernel_calls());
  state.counters["GFLOP/s"] = benchmark::Counter(6.0 * static_cast<double>(batch) * dense_macs_per_row(g) / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void compile_time(benchmark::State& state, const std::string& name, bool fuse) {
  kiln::Graph g = model(name, 32);
  std::size_t nodes = 0;
  for (auto _ : state) {
    kiln::Plan plan = kiln::compile(g, training(fuse));
    nodes = plan.graph().size();
    benchmark::DoNotOptimize(nodes);
  }
  state.counters["nodes"] = static_cast<double>(nodes);
}

void register_all() {
  for (const std::string& name : kiln::model_names())
    for (bool fuse : {true, false}) {
      const std::string variant = fuse ? "fused" : "unfused";
      for (std::int64_t batch : {32, 256})
        for (int threads : {1, 2}) {
          std::string label = "step/" + name + "/" + variant + "/" + std::to_string(batch) + "/threads:" +
                              std::to_string(threads);
          benchmark::RegisterBenchmark(label.c_str(),
                                       [=](benchmark::State& s) { step(s, name, batch, fuse, threads); })
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();  // with 2 threads, CPU time would count the second thread too
        }
      std::string label = "compile/" + name + "/" + variant;
      benchmark::RegisterBenchmark(label.c_str(), [=](benchmark::State& s) { compile_time(s, name, fuse); })
          ->Unit(benchmark::kMillisecond);
    }
}

const bool registered = (register_all(), true);

}  // namespace
