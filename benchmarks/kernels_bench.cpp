// Every kernel of the MLP's training plan (784-100-200-10, batch 32 and 256,
// fused and unfused), each alone on buffers of its own at the plan's shapes:
// the GEMMs (forward affine, input and weight gradients), bias and ReLU,
// softmax-cross-entropy and its gradient, the column sums of the bias
// gradients, the SGD updates. Plus OpenBLAS's sgemm at 1024³, the reference
// of the large-MLP target. Counter GFLOP/s for the matrix products.
#include <cblas.h>

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontends/models.hpp"
#include "runtime/kernels.hpp"
#include "runtime/plan.hpp"
#include "runtime/tensor.hpp"
#include "runtime/threads.hpp"

namespace {

// Positive, small values every op accepts; class ids in range for labels.
void fill(kiln::Tensor& t, const kiln::Node& n) {
  for (std::size_t i = 0; i < t.numel(); ++i)
    t.set(i, n.dtype == kiln::DType::i32 ? static_cast<double>((i * 7 + 3) % static_cast<std::size_t>(n.attrs.classes))
                                         : 0.05 + 0.9 * static_cast<double>((i * 37) % 101) / 101.0);
}

// The plan's kernels bound to values of their own (one tensor per node, so
// values flow as in the plan), run once in order so each sees realistic data.
struct Replay {
  kiln::Plan plan;
  std::map<kiln::NodeId, kiln::Tensor> values;
  std::map<kiln::NodeId, std::vector<kiln::BoundKernel>> calls;

  explicit Replay(kiln::Plan p) : plan(std::move(p)) {
    const kiln::Graph& g = plan.graph();
    for (kiln::NodeId id : plan.order()) {
      const kiln::Node& n = g[id];
      kiln::Tensor& out = values.emplace(id, kiln::Tensor(n.shape, n.dtype)).first->second;
      if (n.op == kiln::OpKind::input || n.op == kiln::OpKind::labels || n.op == kiln::OpKind::param) {
        fill(out, n);
        continue;
      }
      std::vector<kiln::TensorRef> inputs;
      for (kiln::NodeId operand : g.inputs(id)) inputs.push_back(values.at(operand).ref());
      kiln::bind_kernel(n.op, inputs, out.ref(), n.attrs, calls[id]);
      for (const kiln::BoundKernel& c : calls[id]) c.run();
    }
  }
};

double gemm_flops(const kiln::Graph& g, kiln::NodeId id) {
  const kiln::Node& n = g[id];
  if (n.op != kiln::OpKind::matmul && n.op != kiln::OpKind::affine && n.op != kiln::OpKind::affine_relu) return 0;
  const kiln::Shape& a = g[g.inputs(id)[0]].shape;
  std::int64_t k = n.op == kiln::OpKind::matmul && n.attrs.transpose_a ? a[0] : a[1];
  return 2.0 * static_cast<double>(n.shape.numel()) * static_cast<double>(k);
}

void register_plan_kernels(const std::string& model, std::int64_t batch, bool fuse) {
  kiln::ModelOptions m;
  m.batch = batch;
  kiln::PlanOptions options;
  options.compile.fuse = fuse;
  options.optimizer = kiln::OptimizerOptions{};
  auto replay = std::make_shared<Replay>(kiln::compile(kiln::build_model(model, m), options));
  const kiln::Graph& g = replay->plan.graph();
  for (auto& [id, bound] : replay->calls) {
    const kiln::Node& n = g[id];
    if (n.op == kiln::OpKind::constant) continue;
    std::string label = "kernel/" + model + "/" + std::to_string(batch) + (fuse ? "/fused/" : "/unfused/") +
                        std::string(kiln::op_name(n.op)) + "/" + n.name;
    double flops = gemm_flops(g, id);
    const std::vector<kiln::BoundKernel>* calls = &bound;
    benchmark::RegisterBenchmark(label.c_str(), [replay, calls, flops](benchmark::State& state) {
      kiln::set_threads(1);
      for (auto _ : state)
        for (const kiln::BoundKernel& c : *calls) c.run();
      if (flops > 0)
        state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    })->Unit(benchmark::kMicrosecond);
  }
}

void sgemm_square(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  kiln::set_threads(static_cast<int>(state.range(1)));
  std::vector<float> a(static_cast<std::size_t>(n) * n, 0.5f), b(a.size(), 0.25f), c(a.size());
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * n * static_cast<double>(n) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  kiln::set_threads(1);
}

void register_all() {
  for (std::int64_t batch : {32, 256})
    for (bool fuse : {true, false}) register_plan_kernels("mlp", batch, fuse);
  benchmark::RegisterBenchmark("kernel/cblas_sgemm/1024x1024x1024", sgemm_square)
      ->ArgNames({"n", "threads"})
      ->Args({1024, 1})
      ->Args({1024, 2})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

const bool registered = (register_all(), true);

}  // namespace
