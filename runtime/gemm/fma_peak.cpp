// Single-core FMA peak, measured: independent chains of fused multiply-adds
// (more chains than FMA latency × ports, so the units never wait), compiled
// for the ISA by target attributes and run only where the CPU has it.
#include <immintrin.h>

#include <chrono>

#include "runtime/gemm/plan_gemms.hpp"

namespace kiln::gemm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kChains = 12;

template <class Body>
double gflops(double ms, double flops_per_round, Body body) {
  body(1000);  // warm-up: the vector units' power-up
  double best = 0;
  const Clock::time_point deadline = Clock::now() + std::chrono::microseconds(static_cast<long>(ms * 1000));
  do {
    const long rounds = 200000;
    const Clock::time_point t = Clock::now();
    body(rounds);
    const double s = std::chrono::duration<double>(Clock::now() - t).count();
    best = std::max(best, flops_per_round * static_cast<double>(rounds) / s / 1e9);
  } while (Clock::now() < deadline);
  return best;
}

__attribute__((target("avx512f"))) float run_avx512(long rounds) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-4f);
  for (long r = 0; r < rounds; ++r)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) float run_avx2(long rounds) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-4f);
  for (long r = 0; r < rounds; ++r)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, sum);
  return out[0];
}

volatile float sink;

}  // namespace

FmaPeak measure_fma_peak(double ms) {
  FmaPeak p;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    p.avx512_gflops = gflops(ms, 2.0 * 16 * kChains, [](long r) { sink = run_avx512(r); });
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    p.avx2_gflops = gflops(ms, 2.0 * 8 * kChains, [](long r) { sink = run_avx2(r); });
  return p;
}

}  // namespace kiln::gemm
