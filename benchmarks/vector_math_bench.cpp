// The exp and log loops behind the softmax family (runtime/kernels/
// vector_math.hpp) and the softmax-cross-entropy kernels built on them, at a
// classifier's narrow rows: 10 classes over 1,257 rows (the digits training
// set) and over a 32-row batch. Whichever clone the CPU picks runs; a build
// configured with -DKILN_VECTOR_MATH_ARCH=haswell runs the AVX2 code on any
// CPU that has AVX2, so an AVX-512 machine can reproduce the AVX2 figures
// (docs/benchmarks.md). Counter `floats/s`: elements processed.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/kernels.hpp"
#include "runtime/kernels/vector_math.hpp"
#include "runtime/tensor.hpp"
#include "runtime/threads.hpp"

namespace {

constexpr std::int64_t kClasses = 10;

// Logits whose rows span about `spread`: up to 16 a group of rows shares one
// shift in softmax_numerators, beyond it each row is shifted by its own max.
std::vector<float> logits(std::size_t n, double spread) {
  std::vector<float> z(n);
  for (std::size_t i = 0; i < n; ++i) z[i] = static_cast<float>(0.5 * spread * std::sin(0.61 * static_cast<double>(i)));
  return z;
}

void set_rate(benchmark::State& state, std::size_t floats) {
  state.counters["floats/s"] =
      benchmark::Counter(static_cast<double>(floats), benchmark::Counter::kIsIterationInvariantRate);
}

// e^(z − shift) over max-shifted logits (all ≤ 0), into a buffer of its own
// so every iteration sees the same inputs.
void exp_shifted(benchmark::State& state, std::size_t rows) {
  const std::size_t n = rows * kClasses;
  std::vector<float> z = logits(n, 20.0), y(n);
  for (auto _ : state) {
    kiln::kernels::detail::exp_shifted(z.data(), n, 10.0f, y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, n);
}

// ln of one row sum per row (values in [1, 10], as a softmax's sums of
// max-shifted exponentials). The log works in place, so each iteration first
// restores its input: a copy of `rows` floats, small beside the log itself.
void log_row_sums(benchmark::State& state, std::size_t rows) {
  const std::size_t n = rows;
  std::vector<float> sums(n), y(n);
  for (std::size_t i = 0; i < n; ++i) sums[i] = 1.0f + 9.0f * static_cast<float>(i % 97) / 97.0f;
  for (auto _ : state) {
    std::memcpy(y.data(), sums.data(), n * sizeof(float));
    kiln::kernels::detail::log_in_place(y.data(), n);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, n);
}

void softmax_numerators(benchmark::State& state, std::size_t rows, double spread) {
  const std::size_t n = rows * kClasses;
  std::vector<float> z = logits(n, spread), out(n), shift(rows);
  for (auto _ : state) {
    kiln::kernels::detail::softmax_numerators(z.data(), rows, kClasses, out.data(), shift.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rate(state, n);
}

// The softmax_cross_entropy kernel (the loss, a scalar) or its gradient
// (d loss / d logits), as a plan binds them, on logits spreading over 40.
void softmax_xent(benchmark::State& state, std::int64_t rows, bool gradient) {
  kiln::Tensor z({rows, kClasses}, kiln::DType::f32), labels({rows}, kiln::DType::i32), dy({}, kiln::DType::f32);
  std::vector<float> values = logits(static_cast<std::size_t>(rows * kClasses), 40.0);
  std::memcpy(z.data<float>(), values.data(), values.size() * sizeof(float));
  for (std::int64_t r = 0; r < rows; ++r) labels.data<std::int32_t>()[r] = static_cast<std::int32_t>((r * 7 + 3) % kClasses);
  dy.data<float>()[0] = 1.0f;
  kiln::Tensor out = gradient ? kiln::Tensor({rows, kClasses}, kiln::DType::f32) : kiln::Tensor({}, kiln::DType::f32);
  kiln::Attrs attrs;
  std::vector<kiln::TensorRef> inputs = {z.ref(), labels.ref()};
  if (gradient) inputs.push_back(dy.ref());
  std::vector<kiln::BoundKernel> calls;
  kiln::bind_kernel(gradient ? kiln::OpKind::softmax_cross_entropy_grad : kiln::OpKind::softmax_cross_entropy, inputs,
                    out.ref(), attrs, calls);
  kiln::set_threads(1);
  for (auto _ : state) {
    for (const kiln::BoundKernel& c : calls) c.run();
    benchmark::ClobberMemory();
  }
  set_rate(state, static_cast<std::size_t>(rows * kClasses));
}

void register_all() {
  for (std::int64_t rows : {1257, 32}) {
    const std::string shape = std::to_string(rows) + "x" + std::to_string(kClasses);
    const auto n = static_cast<std::size_t>(rows);
    benchmark::RegisterBenchmark(("vector_math/exp_shifted/" + shape).c_str(),
                                 [n](benchmark::State& s) { exp_shifted(s, n); });
    benchmark::RegisterBenchmark(("vector_math/log_row_sums/" + shape).c_str(),
                                 [n](benchmark::State& s) { log_row_sums(s, n); });
    for (double spread : {8.0, 40.0})
      benchmark::RegisterBenchmark(
          ("vector_math/softmax_numerators/" + shape + "/spread:" + std::to_string(static_cast<int>(spread))).c_str(),
          [n, spread](benchmark::State& s) { softmax_numerators(s, n, spread); });
    for (bool gradient : {false, true})
      benchmark::RegisterBenchmark(
          ("kernel/softmax_cross_entropy" + std::string(gradient ? "_grad/" : "/") + shape).c_str(),
          [rows, gradient](benchmark::State& s) { softmax_xent(s, rows, gradient); });
  }
}

const bool registered = (register_all(), true);

}  // namespace
