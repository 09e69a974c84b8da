// kiln's own loops for products with a tiny inner dimension (k ≤ 4: the
// spiral net's 2-feature input layer and its 3-class input gradient). There
// a GEMM library's blocking and packing cost more than the arithmetic: each
// row of C is k scaled rows of op(B) added onto the epilogue's start (bias,
// beta·C or zero), one vectorised pass per row. op(B) is packed (k rows of
// n, on the stack) when it is stored transposed or strided. f32 only; other
// shapes have no Prepared here and another backend runs them. (A variant
// for n ≤ 4 — dot products along k — measured slower than OpenBLAS on the
// spiral net's 3-class layer and was left out.)
#include <algorithm>
#include <cstddef>

#include "runtime/gemm/backends.hpp"

#define KILN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace kiln::gemm::detail {
namespace {

constexpr std::int64_t kSmall = 4;
// The long side of what is packed on the stack: 4 x 2048 floats, 32 KiB.
constexpr std::int64_t kMaxLong = 2048;

struct SmallK {
  std::size_t m, n, k;
  const float* a;
  std::size_t lda;
  bool transpose_a;
  const float* b;  // op(B), k rows of n, row stride n
  float alpha, beta;
  const float* bias;  // n values, or nullptr
  bool relu;
  float* c;
  std::size_t ldc;
};

// One row of C: start(j) + Σ_kk a[kk]·b[kk][j], then ReLU. K is a constant
// so that the sum unrolls into one pass.
template <std::size_t K, class Start>
// c is not __restrict__: start() may read it (beta·C).
__attribute__((always_inline)) inline void row(const SmallK& s, const float* a, float* c, Start start) {
  const float* __restrict__ b = s.b;
  const std::size_t n = s.n;
  for (std::size_t j = 0; j < n; ++j) {
    float v = start(j);
    for (std::size_t kk = 0; kk < K; ++kk) v += a[kk] * b[kk * n + j];
    c[j] = s.relu && v < 0.0f ? 0.0f : v;
  }
}

template <std::size_t K>
__attribute__((always_inline)) inline void rows(const SmallK& s) {
  for (std::size_t i = 0; i < s.m; ++i) {
    float a[K];
    for (std::size_t kk = 0; kk < K; ++kk)
      a[kk] = s.alpha * (s.transpose_a ? s.a[kk * s.lda + i] : s.a[i * s.lda + kk]);
    float* c = s.c + i * s.ldc;
    // beta = 0 must not read C: a reused buffer may hold NaN.
    if (s.bias) row<K>(s, a, c, [&](std::size_t j) { return s.bias[j]; });
    else if (s.beta == 0.0f) row<K>(s, a, c, [](std::size_t) { return 0.0f; });
    else row<K>(s, a, c, [&](std::size_t j) { return s.beta * c[j]; });
  }
}

KILN_VECTOR_CLONES
void small_k_product(const SmallK& s) {
  switch (s.k) {
    case 1: return rows<1>(s);
    case 2: return rows<2>(s);
    case 3: return rows<3>(s);
    default: return rows<4>(s);
  }
}

class DirectGemm final : public Prepared {
 public:
  explicit DirectGemm(const Desc& d) : Prepared(d, Backend::direct) {}

  void run(const void* a, const void* b, const void* bias, void* c) const override {
    const Desc& d = desc();
    const std::size_t m = static_cast<std::size_t>(d.m), n = static_cast<std::size_t>(d.n),
                      k = static_cast<std::size_t>(d.k), ldb = static_cast<std::size_t>(d.ldb);
    const float* stored_b = static_cast<const float*>(b);
    const float* bias_row = d.epilogue != Epilogue::none ? static_cast<const float*>(bias) : nullptr;
    const bool relu = d.epilogue == Epilogue::bias_relu;
    // op(B)[kk][j], wherever it is stored
    auto op_b = [&](std::size_t kk, std::size_t j) { return d.transpose_b ? stored_b[j * ldb + kk] : stored_b[kk * ldb + j]; };
    alignas(64) float packed[kSmall * kMaxLong];
    const float* rows_of_b = stored_b;
    if (d.transpose_b || ldb != n) {
      for (std::size_t kk = 0; kk < k; ++kk)
        for (std::size_t j = 0; j < n; ++j) packed[kk * n + j] = op_b(kk, j);
      rows_of_b = packed;
    }
    small_k_product(SmallK{m, n, k, static_cast<const float*>(a), static_cast<std::size_t>(d.lda), d.transpose_a,
                           rows_of_b, static_cast<float>(d.alpha), static_cast<float>(d.beta), bias_row, relu,
                           static_cast<float*>(c), static_cast<std::size_t>(d.ldc)});
  }
};

}  // namespace

std::unique_ptr<Prepared> prepare_direct(const Desc& d) {
  if (d.dtype != DType::f32 || d.k > kSmall || d.n > kMaxLong) return nullptr;
  return std::make_unique<DirectGemm>(d);
}

std::string direct_isa() {
  __builtin_cpu_init();
  const char* isa = __builtin_cpu_supports("avx512f") ? "AVX-512" : __builtin_cpu_supports("avx2") ? "AVX2" : "SSE2";
  return std::string("kiln loops for k <= 4 (") + isa + ")";
}

}  // namespace kiln::gemm::detail
