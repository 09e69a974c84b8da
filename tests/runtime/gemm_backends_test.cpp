// Every GEMM backend against a double-precision reference written here by
// the definition: every transpose combination, degenerate and odd shapes,
// leading dimensions wider than the rows, alpha/beta, the bias and ReLU
// epilogues; and a prepared GEMM allocates nothing when it runs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "graph/error.hpp"
#include "runtime/gemm/backends.hpp"
#include "runtime/gemm/choice.hpp"
#include "runtime/gemm/gemm.hpp"
#include "runtime/threads.hpp"
#include "tests/alloc_hook/allocation_counter.hpp"

using namespace kiln;
using kiln::gemm::Backend;
using kiln::gemm::Desc;
using kiln::gemm::Epilogue;

namespace {

struct Operands {
  std::vector<double> a, b, c, bias;
};

// Stored sizes follow the Desc: A has (ta ? k : m) rows of lda, and so on.
// The padding past each row holds values a correct GEMM never reads.
Operands random_operands(const Desc& d, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto fill = [&](std::size_t n) {
    std::vector<double> v(n);
    for (double& x : v) x = u(rng);
    return v;
  };
  Operands o;
  o.a = fill(static_cast<std::size_t>((d.transpose_a ? d.k : d.m) * d.lda));
  o.b = fill(static_cast<std::size_t>((d.transpose_b ? d.n : d.k) * d.ldb));
  o.c = fill(static_cast<std::size_t>(d.m * d.ldc));
  o.bias = fill(static_cast<std::size_t>(d.n));
  return o;
}

// C as the Desc defines it, padding untouched.
std::vector<double> reference(const Desc& d, const Operands& o) {
  std::vector<double> c = o.c;
  for (std::int64_t i = 0; i < d.m; ++i)
    for (std::int64_t j = 0; j < d.n; ++j) {
      double sum = 0;
      for (std::int64_t p = 0; p < d.k; ++p) {
        double a = d.transpose_a ? o.a[p * d.lda + i] : o.a[i * d.lda + p];
        double b = d.transpose_b ? o.b[j * d.ldb + p] : o.b[p * d.ldb + j];
        sum += a * b;
      }
      double v = d.alpha * sum + d.beta * o.c[i * d.ldc + j];
      if (d.epilogue != Epilogue::none) v += o.bias[j];
      if (d.epilogue == Epilogue::bias_relu) v = std::max(v, 0.0);
      c[i * d.ldc + j] = v;
    }
  return c;
}

template <class T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// Runs the prepared `p` (which computes `d`) on random operands against the reference.
template <class T>
void check_prepared(const Desc& d, const gemm::Prepared& p, std::string_view label, std::mt19937& rng) {
  Operands o = random_operands(d, rng);
  std::vector<T> a = as<T>(o.a), b = as<T>(o.b), c = as<T>(o.c), bias = as<T>(o.bias);
  // The reference reads what the backend reads: the values rounded to T.
  o.a.assign(a.begin(), a.end());
  o.b.assign(b.begin(), b.end());
  o.c.assign(c.begin(), c.end());
  o.bias.assign(bias.begin(), bias.end());
  // With beta = 0, C's old contents must not be read at all: a reused
  // buffer may hold NaN or infinity, and 0·NaN is NaN.
  if (d.beta == 0.0)
    for (std::int64_t i = 0; i < d.m; ++i)
      for (std::int64_t j = 0; j < d.n; ++j) c[static_cast<std::size_t>(i * d.ldc + j)] = std::numeric_limits<T>::quiet_NaN();
  p.run(a.data(), b.data(), bias.data(), c.data());
  std::vector<double> want = reference(d, o);
  const double tol = (std::is_same_v<T, float> ? 1e-6 : 1e-14) * (4.0 + static_cast<double>(d.k));
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (!(std::abs(static_cast<double>(c[i]) - want[i]) <= tol) && bad++ == 0) first = i;
  INFO(label << " " << d.key() << ": " << bad << " wrong elements, first " << first << " got "
             << (want.empty() ? 0.0 : static_cast<double>(c[first])) << " want " << (want.empty() ? 0.0 : want[first]));
  CHECK(bad == 0);
}

// Runs `d` on `backend` when it has a kernel; returns false when it has none.
template <class T>
bool check_backend(const Desc& d, Backend backend, std::mt19937& rng) {
  std::unique_ptr<gemm::Prepared> p = gemm::try_prepare(d, backend);
  if (!p) return false;
  check_prepared<T>(d, *p, gemm::backend_name(backend), rng);
  return true;
}

// (m, n, k) with the 1×1 product, K = 1, odd and prime sizes, the MLP's,
// and the spiral net's products (direct's k ≤ 4: 2-wide input, 3 classes).
const std::int64_t kShapes[][3] = {{1, 1, 1},    {1, 7, 1},     {5, 3, 1},    {1, 1, 9},    {3, 5, 7},   {17, 33, 9},
                                   {31, 1, 13},  {32, 100, 784}, {200, 10, 32}, {64, 65, 127}, {300, 100, 2}, {45, 67, 3},
                                   {9, 17, 4},   {37, 3, 100},  {100, 3, 300}};

}  // namespace

TEST_CASE("gemm: every backend and transpose combination agrees with an f64 reference", "[gemm]") {
  std::mt19937 rng(17);
  for (Backend backend : gemm::compiled_backends())
    for (DType dtype : {DType::f32, DType::f64}) {
      std::size_t prepared = 0, tried = 0;
      for (const auto& s : kShapes)
        for (bool ta : {false, true})
          for (bool tb : {false, true})
            for (std::int64_t pad : {0, 3}) {
              Desc d = Desc::packed(dtype, s[0], s[1], s[2], ta, tb);
              d.lda += pad;  // non-contiguous rows: the padding must never be read or written
              d.ldb += 2 * pad;
              d.ldc += pad;
              ++tried;
              bool ran = dtype == DType::f64 ? check_backend<double>(d, backend, rng)
                                             : check_backend<float>(d, backend, rng);
              prepared += ran ? 1 : 0;
            }
      INFO(gemm::backend_name(backend) << " " << dtype_name(dtype) << ": ran " << prepared << " of " << tried);
      // blas runs everything; the others must at least run plain f32 products.
      if (backend == Backend::blas) CHECK(prepared == tried);
      if (dtype == DType::f32) CHECK(prepared > 0);
      if (backend == Backend::dnnl && dtype == DType::f32) CHECK(prepared == tried);
    }
}

TEST_CASE("gemm: alpha beta and the bias and ReLU epilogues on every backend", "[gemm]") {
  std::mt19937 rng(5);
  for (Backend backend : gemm::compiled_backends())
    for (const auto& s : kShapes) {
      Desc d = Desc::packed(DType::f32, s[0], s[1], s[2]);
      d.ldc += 1;
      for (Epilogue e : {Epilogue::bias, Epilogue::bias_relu}) {
        d.epilogue = e;
        d.beta = 0;
        // every backend runs the epilogues (direct: on the products it has, k ≤ 4)
        CHECK((check_backend<float>(d, backend, rng) || (backend == Backend::direct && d.k > 4)));
      }
      d.epilogue = Epilogue::none;
      d.beta = 1.0;  // accumulation, as weight gradients use it
      check_backend<float>(d, backend, rng);
      d.alpha = -0.5;
      d.beta = 0.25;
      check_backend<float>(d, backend, rng);
      Desc wide = d;  // f64 with alpha, where the backend has f64
      wide.dtype = DType::f64;
      wide.alpha = 2.0;
      wide.beta = 0.0;
      check_backend<double>(wide, backend, rng);
    }
}

TEST_CASE("gemm: an invalid descriptor is refused naming the field", "[gemm]") {
  Desc d = Desc::packed(DType::f32, 4, 5, 6);
  d.lda = 5;
  CHECK_THROWS_WITH(gemm::try_prepare(d, Backend::blas), Catch::Contains("lda must be at least 6"));
  d = Desc::packed(DType::f32, 0, 5, 6);
  CHECK_THROWS_WITH(gemm::try_prepare(d, Backend::blas), Catch::Contains("m must be at least 1"));
  d = Desc::packed(DType::i32, 2, 2, 2);
  CHECK_THROWS_WITH(gemm::try_prepare(d, Backend::blas), Catch::Contains("f32 or f64"));
  d = Desc::packed(DType::f32, 2, 2, 2);
  d.epilogue = Epilogue::bias;
  d.beta = 1;
  CHECK_THROWS_WITH(gemm::try_prepare(d, Backend::blas), Catch::Contains("needs beta = 0"));
}

TEST_CASE("gemm: names round-trip and every backend reports the ISA it runs", "[gemm]") {
  for (Backend b : gemm::kAllBackends) CHECK(gemm::backend_from_name(gemm::backend_name(b)) == b);
  CHECK_FALSE(gemm::backend_from_name("mkl"));
  CHECK(gemm::backend_compiled(Backend::blas));
  for (Backend b : gemm::compiled_backends()) {
    std::string isa = gemm::backend_isa(b);
    INFO(gemm::backend_name(b) << ": " << isa);
    CHECK_FALSE(isa.empty());
  }
}

TEST_CASE("gemm: blas with B copied transposed agrees with an f64 reference", "[gemm]") {
  // The route kiln takes where OpenBLAS's small NN kernel would allocate;
  // forced here so that every CPU checks it, not only the AVX-512 ones.
  std::mt19937 rng(23);
  for (DType dtype : {DType::f32, DType::f64})
    for (const auto& s : kShapes)
      for (bool ta : {false, true})
        for (std::int64_t pad : {0, 3}) {
          Desc d = Desc::packed(dtype, s[0], s[1], s[2], ta, false);
          d.lda += pad;
          d.ldb += 2 * pad;
          d.ldc += pad;
          auto p = gemm::detail::prepare_blas(d, 0, gemm::detail::BlasRoute::b_transposed);
          if (dtype == DType::f64)
            check_prepared<double>(d, *p, "blas, B transposed", rng);
          else
            check_prepared<float>(d, *p, "blas, B transposed", rng);
          Desc fold = d;  // a folded SGD update: alpha = -lr, beta = 1 - lr·wd
          fold.alpha = -0.1;
          fold.beta = 0.999;
          auto q = gemm::detail::prepare_blas(fold, 0, gemm::detail::BlasRoute::b_transposed);
          if (dtype == DType::f64)
            check_prepared<double>(fold, *q, "blas, B transposed", rng);
          else
            check_prepared<float>(fold, *q, "blas, B transposed", rng);
          for (Epilogue e : {Epilogue::bias, Epilogue::bias_relu}) {
            Desc biased = d;
            biased.epilogue = e;
            auto r = gemm::detail::prepare_blas(biased, 0, gemm::detail::BlasRoute::b_transposed);
            if (dtype == DType::f64)
              check_prepared<double>(biased, *r, "blas, B transposed", rng);
            else
              check_prepared<float>(biased, *r, "blas, B transposed", rng);
          }
        }
}

TEST_CASE("gemm: which products OpenBLAS's small NN kernel allocates for", "[gemm][alloc]") {
  using gemm::detail::openblas_small_kernel_allocates;
  auto nn = [](DType t, std::int64_t m, std::int64_t n, std::int64_t k) { return Desc::packed(t, m, n, k); };
  for (const char* core : {"SkylakeX", "Cooperlake", "SapphireRapids"}) {
    INFO(core);
    // f32: 1-8 columns left over after blocks of 16, and k >= 32
    CHECK(openblas_small_kernel_allocates(nn(DType::f32, 32, 200, 100), core));  // MLP fc2: 200 = 12*16 + 8
    CHECK(openblas_small_kernel_allocates(nn(DType::f32, 300, 3, 100), core));   // spiral's class layer
    CHECK(openblas_small_kernel_allocates(nn(DType::f32, 32, 2, 264), core));    // moons' last layer
    CHECK(openblas_small_kernel_allocates(nn(DType::f32, 1, 1, 32), core));
    CHECK_FALSE(openblas_small_kernel_allocates(nn(DType::f32, 1, 1, 31), core));     // k < 32
    CHECK_FALSE(openblas_small_kernel_allocates(nn(DType::f32, 32, 10, 64), core));   // 10 left: masked path
    CHECK_FALSE(openblas_small_kernel_allocates(nn(DType::f32, 32, 16, 64), core));   // none left
    CHECK_FALSE(openblas_small_kernel_allocates(nn(DType::f32, 32, 100, 784), core)); // m·n·k > 1e6
    CHECK_FALSE(openblas_small_kernel_allocates(Desc::packed(DType::f32, 300, 3, 100, true, false), core));
    CHECK_FALSE(openblas_small_kernel_allocates(Desc::packed(DType::f32, 300, 3, 100, false, true), core));
    // f64: 1-4 columns left over after blocks of 8, and k >= 16
    CHECK(openblas_small_kernel_allocates(nn(DType::f64, 300, 3, 16), core));
    CHECK(openblas_small_kernel_allocates(nn(DType::f64, 32, 12, 100), core));
    CHECK_FALSE(openblas_small_kernel_allocates(nn(DType::f64, 300, 3, 15), core));
    CHECK_FALSE(openblas_small_kernel_allocates(nn(DType::f64, 32, 13, 100), core));  // 5 left
  }
  for (const char* core : {"Haswell", "Zen", "SandyBridge", "cblas", ""}) {
    INFO(core);
    CHECK_FALSE(openblas_small_kernel_allocates(nn(DType::f32, 300, 3, 100), core));
  }
}

// Every shape of kShapes in every transpose combination and both dtypes, so
// that OpenBLAS's small-matrix kernels are reached where the CPU has them.
// oneDNN 2.6 allocates inside every execute(); the automatic choice never
// picks it for that reason (runtime/gemm/choice.hpp), so it is left out here.
TEST_CASE("gemm: a prepared GEMM of every automatic backend allocates nothing when it runs", "[gemm][alloc]") {
  if (!kiln::testing::AllocationCounter::available()) {
    WARN("the allocation counter is not installed in this build: nothing to count");
    return;
  }
  // Debian's OpenBLAS mallocs a job array whenever it splits a GEMM across
  // threads; kiln's own calls allocate nothing, which one thread shows.
  const int threads_before = kiln::threads();
  kiln::set_threads(1);
  INFO("OpenBLAS: " << gemm::backend_isa(Backend::blas));
  std::size_t ran = 0;
  for (Backend backend : gemm::compiled_backends()) {
    if (!gemm::auto_eligible(backend)) continue;
    for (DType dtype : {DType::f32, DType::f64})
      for (const auto& s : kShapes)
        for (bool ta : {false, true})
          for (bool tb : {false, true})
            for (Epilogue e : {Epilogue::none, Epilogue::bias_relu}) {
              Desc d = Desc::packed(dtype, s[0], s[1], s[2], ta, tb);
              d.epilogue = e;
              std::unique_ptr<gemm::Prepared> p = gemm::try_prepare(d, backend);
              if (!p) continue;
              const std::size_t size = static_cast<std::size_t>(
                  std::max({d.m * d.k, d.k * d.n, d.m * d.n}));
              std::vector<double> a(size, 0.5), b(size, 0.25), c(size), bias(static_cast<std::size_t>(d.n), 1.0);
              p->run(a.data(), b.data(), bias.data(), c.data());  // lets the backend set itself up
              std::size_t allocations = 0;
              {
                kiln::testing::AllocationCounter counter;
                for (int i = 0; i < 3; ++i) p->run(a.data(), b.data(), bias.data(), c.data());
                allocations = counter.allocations();
              }
              ++ran;
              INFO(gemm::backend_name(backend) << " " << d.key());
              CHECK(allocations == 0);
            }
  }
  CHECK(ran > 0);
  kiln::set_threads(threads_before);
}
