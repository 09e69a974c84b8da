// The per-GEMM thread count: blas limited to one thread while the process
// runs two gives the right products, leaves the process setting alone and,
// unlike OpenBLAS's threaded path, allocates nothing; the choice records the
// count in the tuning file and reads it back; a format-1 file (no counts) is
// ignored with one warning and rewritten. Nothing here depends on which
// variant is faster.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "runtime/gemm/choice.hpp"
#include "runtime/gemm/gemm.hpp"
#include "runtime/threads.hpp"
#include "tests/alloc_hook/allocation_counter.hpp"
#include "tests/runtime/gemm_support.hpp"

extern "C" int openblas_get_num_threads() __attribute__((weak));

using namespace kiln;
using kiln::gemm::Backend;
using kiln::gemm::Desc;
using kiln::gemm::Epilogue;

namespace {

// OpenBLAS's own count right now (1 for another CBLAS).
int blas_threads_now() { return openblas_get_num_threads ? openblas_get_num_threads() : 1; }

struct ProcessThreads {
  int before = kiln::threads();
  explicit ProcessThreads(int n) { kiln::set_threads(n); }
  ~ProcessThreads() { kiln::set_threads(before); }
};

// C as the Desc defines it, in f64, from operands already rounded to T.
template <class T>
std::vector<double> reference(const Desc& d, const std::vector<T>& a, const std::vector<T>& b,
                              const std::vector<T>& c, const std::vector<T>& bias) {
  std::vector<double> out(c.begin(), c.end());
  for (std::int64_t i = 0; i < d.m; ++i)
    for (std::int64_t j = 0; j < d.n; ++j) {
      double sum = 0;
      for (std::int64_t p = 0; p < d.k; ++p) {
        double x = d.transpose_a ? a[p * d.lda + i] : a[i * d.lda + p];
        double y = d.transpose_b ? b[j * d.ldb + p] : b[p * d.ldb + j];
        sum += x * y;
      }
      double v = d.alpha * sum + d.beta * static_cast<double>(c[i * d.ldc + j]);
      if (d.epilogue != Epilogue::none) v += static_cast<double>(bias[j]);
      if (d.epilogue == Epilogue::bias_relu) v = std::max(v, 0.0);
      out[i * d.ldc + j] = v;
    }
  return out;
}

template <class T>
void check_against_reference(const gemm::Prepared& p, std::mt19937& rng) {
  const Desc& d = p.desc();
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto fill = [&](std::int64_t n) {
    std::vector<T> v(static_cast<std::size_t>(n));
    for (T& x : v) x = static_cast<T>(u(rng));
    return v;
  };
  std::vector<T> a = fill((d.transpose_a ? d.k : d.m) * d.lda), b = fill((d.transpose_b ? d.n : d.k) * d.ldb),
                 c = fill(d.m * d.ldc), bias = fill(d.n);
  const std::vector<double> want = reference(d, a, b, c, bias);
  p.run(a.data(), b.data(), bias.data(), c.data());
  const double tol = (std::is_same_v<T, float> ? 1e-6 : 1e-14) * (4.0 + static_cast<double>(d.k));
  std::size_t bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (!(std::abs(static_cast<double>(c[i]) - want[i]) <= tol)) ++bad;
  INFO(d.key() << ": " << bad << " wrong elements of " << want.size());
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("gemm threads: a limit lowers OpenBLAS's count for its scope only", "[gemm][threads]") {
  ProcessThreads two(2);
  CHECK(kiln::threads() == 2);
  if (!openblas_get_num_threads) return;  // another CBLAS: there is no count to lower
  REQUIRE(blas_threads_now() == 2);
  {
    BlasThreadLimit one(1);
    CHECK(blas_threads_now() == 1);
    CHECK(kiln::threads() == 2);  // the process setting is not what the scope lowered
    {
      BlasThreadLimit wider(4);  // never raises
      CHECK(blas_threads_now() == 1);
    }
    CHECK(blas_threads_now() == 1);
  }
  CHECK(blas_threads_now() == 2);
  CHECK(kiln::threads() == 2);
}

TEST_CASE("gemm threads: blas on one thread at process threads 2 agrees with an f64 reference", "[gemm][threads]") {
  ProcessThreads two(2);
  std::mt19937 rng(23);
  // The MLP's products (large enough that OpenBLAS would split them), odd
  // sizes, every transpose, padded rows, alpha/beta and both epilogues.
  const std::int64_t shapes[][3] = {{32, 100, 784}, {784, 100, 32}, {256, 100, 784}, {17, 33, 9}, {3, 5, 7}};
  std::size_t checked = 0;
  for (DType dtype : {DType::f32, DType::f64})
    for (const auto& s : shapes)
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (int variant = 0; variant < 3; ++variant) {
            Desc d = Desc::packed(dtype, s[0], s[1], s[2], ta, tb);
            d.lda += 2;
            d.ldc += 1;
            if (variant == 1) {
              d.alpha = -0.5;
              d.beta = 0.75;
            }
            if (variant == 2) d.epilogue = Epilogue::bias_relu;
            std::unique_ptr<gemm::Prepared> p = gemm::try_prepare(d, Backend::blas, 1);
            REQUIRE(p);
            CHECK(p->max_threads() == 1);
            if (dtype == DType::f64) check_against_reference<double>(*p, rng);
            else check_against_reference<float>(*p, rng);
            CHECK(blas_threads_now() == (openblas_get_num_threads ? 2 : 1));  // restored after every call
            ++checked;
          }
  CHECK(checked == 2 * 5 * 4 * 3);
}

TEST_CASE("gemm threads: blas on one thread allocates nothing while the process runs two", "[gemm][threads][alloc]") {
  if (!kiln::testing::AllocationCounter::available()) {
    WARN("the allocation counter is not installed in this build: nothing to count");
    return;
  }
  ProcessThreads two(2);
  // Large enough that OpenBLAS on two threads would split it, and malloc
  // its job array for every call (see plan_alloc_test.cpp).
  Desc d = Desc::packed(DType::f32, 32, 100, 784);
  d.epilogue = Epilogue::bias_relu;
  std::unique_ptr<gemm::Prepared> p = gemm::try_prepare(d, Backend::blas, 1);
  std::vector<float> a(32 * 784, 0.5f), b(784 * 100, 0.25f), c(32 * 100), bias(100, 1.0f);
  p->run(a.data(), b.data(), bias.data(), c.data());
  std::size_t allocations = 0;
  {
    kiln::testing::AllocationCounter counter;
    for (int i = 0; i < 5; ++i) p->run(a.data(), b.data(), bias.data(), c.data());
    allocations = counter.allocations();
  }
  CHECK(allocations == 0);
}

namespace {

using kiln::test::captured_stderr;
using kiln::test::read_whole_file;
using kiln::test::write_file_creating_folders;

std::string key_at_threads(const Desc& d, int threads) { return kiln::test::tuning_key(d, threads); }

const Desc kShape = Desc::packed(DType::f32, 32, 100, 784);
const Desc kOther = Desc::packed(DType::f32, 784, 100, 32, true, false);

}  // namespace

TEST_CASE("gemm threads: the tuning file's thread count decides and round-trips", "[gemm][threads][tuning]") {
  if (!openblas_get_num_threads) return;  // another CBLAS runs one thread whatever kiln asks
  test::PrivateGemmCache cache;
  ProcessThreads two(2);
  write_file_creating_folders(cache.file(), "kiln-gemm-tuning 3\ncpu " + gemm::cpu_identity() + "\nblas 1 9.000 -1.000 -1.000 -1.000 4.500 | " +
                          key_at_threads(kShape, 2) + "\nblas 2 3.000 -1.000 -1.000 -1.000 6.000 | " +
                          key_at_threads(kOther, 2) + "\nend 2\n");
  std::string err = captured_stderr([&] {
    gemm::Choice small = gemm::choose(kShape);
    CHECK(small.reason == "tuning file");
    CHECK(small.backend == Backend::blas);
    CHECK(small.threads == 1);
    CHECK(small.max_threads() == 1);
    CHECK(small.blas_one_thread_us == Approx(4.5));
    gemm::Choice other = gemm::choose(kOther);
    CHECK(other.threads == 2);
    CHECK(other.max_threads() == 0);  // the process setting: no switch per call
    gemm::Choice chosen;
    std::unique_ptr<gemm::Prepared> p = gemm::prepare_chosen(kShape, &chosen);
    CHECK(p->backend() == Backend::blas);
    CHECK(p->max_threads() == 1);
    CHECK(gemm::prepare_chosen(kOther)->max_threads() == 0);
  });
  CHECK(err.empty());

  // A measurement adds its entry; the file keeps both counts as they were.
  const Desc measured_shape = Desc::packed(DType::f32, 8, 16, 24);
  gemm::Choice measured = gemm::choose(measured_shape);
  CHECK(measured.reason == "measured");
  CHECK(measured.blas_one_thread_us > 0);
  CHECK(measured.threads >= 1);
  CHECK(measured.threads <= 2);
  if (measured.backend == Backend::xsmm) CHECK(measured.threads == 1);
  gemm::reset_tuning_state();  // as the next process would start
  gemm::Choice again = gemm::choose(measured_shape);
  CHECK(again.reason == "tuning file");
  CHECK(again.backend == measured.backend);
  CHECK(again.threads == measured.threads);
  CHECK(again.blas_one_thread_us == Approx(measured.blas_one_thread_us).margin(0.001));
  CHECK(gemm::choose(kShape).threads == 1);
  CHECK(gemm::choose(kOther).threads == 2);
  const std::string text = read_whole_file(cache.file());
  CHECK(text.rfind("kiln-gemm-tuning 3\n", 0) == 0);
  CHECK(text.find("blas 1 9.000 -1.000 -1.000 -1.000 4.500 | " + key_at_threads(kShape, 2)) != std::string::npos);
}

TEST_CASE("gemm threads: one thread is never measured when the process runs one", "[gemm][threads][tuning]") {
  test::PrivateGemmCache cache;
  ProcessThreads one(1);
  gemm::Choice c = gemm::choose(kShape);
  CHECK(c.reason == "measured");
  CHECK(c.threads == 1);
  CHECK(c.blas_one_thread_us < 0);
  CHECK(c.max_threads() == 0);
}

TEST_CASE("gemm threads: an older tuning file is ignored with one warning and rewritten", "[gemm][threads][tuning]") {
  // As kiln wrote them before thread counts (format 1: backend and three
  // timings) and before the direct backend (format 2: four timings).
  const std::pair<std::string, std::string> older[] = {{"format 1", "kiln-gemm-tuning 1\nblas 1.000 2.000 3.000"},
                                                       {"format 2", "kiln-gemm-tuning 2\nblas 1 1.000 2.000 3.000 4.000"}};
  for (const auto& [format, head] : older) {
    INFO(format);
    test::PrivateGemmCache cache;
    const std::size_t newline = head.find('\n');
    write_file_creating_folders(cache.file(), head.substr(0, newline) + "\ncpu " + gemm::cpu_identity() + "\n" + head.substr(newline + 1) +
                            " | " + key_at_threads(kShape, kiln::threads()) + "\nend 1\n");
    std::string err = captured_stderr([&] { CHECK(gemm::choose(kShape).reason == "measured"); });
    CHECK(err.find("kiln: warning: ignoring the GEMM tuning file") != std::string::npos);
    CHECK(err.find(format) != std::string::npos);
    CHECK(err.find("kiln: warning:", err.find("kiln: warning:") + 1) == std::string::npos);
    CHECK(read_whole_file(cache.file()).rfind("kiln-gemm-tuning 3\n", 0) == 0);
    gemm::reset_tuning_state();
    std::string later = captured_stderr([&] { CHECK(gemm::choose(kShape).reason == "tuning file"); });
    CHECK(later.empty());
  }
}

TEST_CASE("gemm threads: an entry without a valid thread count makes the file untrusted", "[gemm][threads][tuning]") {
  for (const char* entry : {"blas 0 1.000 2.000 3.000 4.000", "blas 1.000 2.000 3.000 4.000",
                            "blas 1 1.000 2.000 3.000"}) {
    INFO(entry);
    test::PrivateGemmCache cache;
    write_file_creating_folders(cache.file(), "kiln-gemm-tuning 3\ncpu " + gemm::cpu_identity() + "\n" + entry + " | " +
                            key_at_threads(kShape, kiln::threads()) + "\nend 1\n");
    std::string err = captured_stderr([&] { CHECK(gemm::choose(kShape).reason == "measured"); });
    CHECK(err.find("kiln: warning: ignoring the GEMM tuning file") != std::string::npos);
    CHECK(err.find("line 3") != std::string::npos);
  }
}
