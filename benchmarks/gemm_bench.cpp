// The GEMMs of one MLP 784-100-200-10 training step (the compiled plan's own
// matrix products: 3 forward with their bias/ReLU epilogues, 2 input
// gradients A·Bᵀ, 3 weight gradients Aᵀ·B) at batch 32 and 256, issued back
// to back through each backend alone and through the mix chosen per shape;
// each GEMM alone per backend; and the single-core FMA peak measured on the
// spot. Counters: GFLOP/s and the fraction of the AVX-512 (else AVX2) peak.
// The choice table and each backend's ISA go to stderr once.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "frontends/models.hpp"
#include "runtime/gemm/plan_gemms.hpp"
#include "runtime/plan.hpp"
#include "runtime/threads.hpp"

namespace {

using kiln::gemm::Backend;

double peak_gflops() {
  static const double peak = [] {
    kiln::gemm::FmaPeak p = kiln::gemm::measure_fma_peak(100);
    std::fprintf(stderr, "single-core FMA peak: AVX-512 %.1f GFLOP/s, AVX2 %.1f GFLOP/s\n", p.avx512_gflops,
                 p.avx2_gflops);
    return p.avx512_gflops > 0 ? p.avx512_gflops : p.avx2_gflops;
  }();
  return peak;
}

const std::vector<kiln::gemm::PlanGemm>& mlp_gemms(std::int64_t batch) {
  static std::vector<kiln::gemm::PlanGemm> cached[2];
  std::vector<kiln::gemm::PlanGemm>& g = cached[batch == 32 ? 0 : 1];
  if (g.empty()) {
    kiln::set_threads(1);
    kiln::ModelOptions mo;
    mo.batch = batch;
    kiln::PlanOptions options;
    options.optimizer = kiln::OptimizerOptions{};
    kiln::Plan plan = kiln::compile(kiln::build_model("mlp", mo), options);
    g = kiln::gemm::plan_gemms(plan);
    std::fprintf(stderr, "MLP 784-100-200-10, batch %lld, 1 thread: %zu GEMMs\n%s", static_cast<long long>(batch),
                 g.size(), kiln::gemm::choice_table(g).c_str());
    for (Backend b : kiln::gemm::compiled_backends())
      std::fprintf(stderr, "  %s: %s\n", std::string(kiln::gemm::backend_name(b)).c_str(),
                   kiln::gemm::backend_isa(b).c_str());
  }
  return g;
}

struct Pass {
  std::vector<std::unique_ptr<kiln::gemm::Prepared>> gemms;
  std::vector<std::vector<float>> a, b, c, bias;
  double flops = 0;
  int fallbacks = 0;

  Pass(const std::vector<kiln::gemm::PlanGemm>& plan, std::optional<Backend> backend) {
    for (const kiln::gemm::PlanGemm& g : plan) {
      const kiln::gemm::Desc& d = g.desc;
      std::unique_ptr<kiln::gemm::Prepared> p = kiln::gemm::try_prepare(d, backend ? *backend : g.choice.backend);
      if (!p) {
        ++fallbacks;
        p = kiln::gemm::try_prepare(d, Backend::blas);
      }
      gemms.push_back(std::move(p));
      a.emplace_back(static_cast<std::size_t>((d.transpose_a ? d.k : d.m) * d.lda), 0.25f);
      b.emplace_back(static_cast<std::size_t>((d.transpose_b ? d.n : d.k) * d.ldb), -0.5f);
      c.emplace_back(static_cast<std::size_t>(d.m * d.ldc), 0.0f);
      bias.emplace_back(static_cast<std::size_t>(d.n), 0.125f);
      flops += d.flops();
    }
  }
  void run(std::size_t only = SIZE_MAX) {
    for (std::size_t i = 0; i < gemms.size(); ++i)
      if (only == SIZE_MAX || only == i) gemms[i]->run(a[i].data(), b[i].data(), bias[i].data(), c[i].data());
  }
};

void floor_pass(benchmark::State& state, std::int64_t batch, std::optional<Backend> backend) {
  Pass pass(mlp_gemms(batch), backend);
  const double peak = peak_gflops();
  for (auto _ : state) {
    pass.run();
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(pass.flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["blas_fallbacks"] = pass.fallbacks;
  state.counters["peak_GFLOP/s"] = peak;
}

void one_gemm(benchmark::State& state, std::int64_t batch, std::size_t index, Backend backend) {
  const std::vector<kiln::gemm::PlanGemm>& plan = mlp_gemms(batch);
  if (index >= plan.size()) {
    state.SkipWithError("the plan has fewer GEMMs");
    return;
  }
  std::unique_ptr<kiln::gemm::Prepared> p = kiln::gemm::try_prepare(plan[index].desc, backend);
  if (!p) {
    state.SkipWithError("no kernel for this shape");
    return;
  }
  Pass pass(plan, backend);
  for (auto _ : state) {
    pass.run(index);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(plan[index].desc.flops() / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void fma_peak(benchmark::State& state) {
  kiln::gemm::FmaPeak p;
  for (auto _ : state) p = kiln::gemm::measure_fma_peak(20);
  state.counters["avx512_GFLOP/s"] = p.avx512_gflops;
  state.counters["avx2_GFLOP/s"] = p.avx2_gflops;
}

void register_all() {
  benchmark::RegisterBenchmark("gemm/fma_peak", fma_peak)->Iterations(3)->Unit(benchmark::kMillisecond);
  for (std::int64_t batch : {32, 256}) {
    const std::string b = std::to_string(batch);
    benchmark::RegisterBenchmark(("gemm/mlp_floor/" + b + "/chosen").c_str(),
                                 [=](benchmark::State& s) { floor_pass(s, batch, std::nullopt); })
        ->Unit(benchmark::kMicrosecond);
    for (Backend backend : kiln::gemm::compiled_backends()) {
      const std::string name(kiln::gemm::backend_name(backend));
      benchmark::RegisterBenchmark(("gemm/mlp_floor/" + b + "/" + name).c_str(),
                                   [=](benchmark::State& s) { floor_pass(s, batch, backend); })
          ->Unit(benchmark::kMicrosecond);
      for (std::size_t i = 0; i < 8; ++i)
        benchmark::RegisterBenchmark(("gemm/mlp_gemm/" + b + "/" + std::to_string(i) + "/" + name).c_str(),
                                     [=](benchmark::State& s) { one_gemm(s, batch, i, backend); })
            ->Unit(benchmark::kMicrosecond);
    }
  }
}

const bool registered = (register_all(), true);

}  // namespace
