// The vectorised math behind the softmax family (runtime/kernels/
// vector_math.hpp) against libm in double: exp and log across their ranges,
// the edge values, and the row and column helpers against plain loops.
#include <catch2/catch.hpp>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <limits>
#include <vector>

#include "runtime/kernels/vector_math.hpp"

namespace {

double ulp_error(float got, double want) {
  double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(want)) - 23);
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

}  // namespace

TEST_CASE("vector exp is within 2 ulp of libm over the normal range", "[runtime][kernels][vector_math]") {
  std::vector<float> x;
  for (double v = -87.0; v < 88.0; v += 0.00731) x.push_back(static_cast<float>(v));
  // An odd length, so the vector loops' remainders are exercised too.
  x.push_back(0.0f);
  std::vector<float> y = x;
  kiln::kernels::detail::exp_in_place(y.data(), y.size());
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, ulp_error(y[i], std::exp(static_cast<double>(x[i]))));
  CHECK(worst < 2.0);
  CHECK(y.back() == 1.0f);
}

TEST_CASE("vector exp flushes underflow to zero and keeps NaN", "[runtime][kernels][vector_math]") {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {-100.0f, -inf, std::numeric_limits<float>::quiet_NaN(), -1e30f};
  kiln::kernels::detail::exp_in_place(x.data(), x.size());
  CHECK(x[0] == 0.0f);
  CHECK(x[1] == 0.0f);
  CHECK(std::isnan(x[2]));
  CHECK(x[3] == 0.0f);
}

namespace {

// exp_one's clamps (vector_math.cpp): e^kLow is about the smallest normal
// float (a hair below it); above kHigh every input gives e^kHigh.
constexpr float kLow = -87.3365447504f, kHigh = 88.3762626647949f;

float from_bits(std::uint32_t u) { return std::bit_cast<float>(u); }

// exp_in_place and exp_shifted (shift 0) of `x`, required to agree bit for bit.
std::vector<float> vector_exp(const std::vector<float>& x) {
  std::vector<float> y = x, z(x.size());
  kiln::kernels::detail::exp_in_place(y.data(), y.size());
  kiln::kernels::detail::exp_shifted(x.data(), x.size(), 0.0f, z.data());
  CHECK(std::memcmp(y.data(), z.data(), y.size() * sizeof(float)) == 0);
  return y;
}

}  // namespace

TEST_CASE("vector exp at its edges: the clamps, infinities, NaN, huge, tiny and subnormal inputs",
          "[runtime][kernels][vector_math]") {
  const float inf = std::numeric_limits<float>::infinity(), max = std::numeric_limits<float>::max();
  SECTION("within 2 ulp of libm from kLow to kHigh, both included") {
    std::vector<float> x = {kLow, std::nextafter(kLow, 0.0f), kHigh, std::nextafter(kHigh, 0.0f)};
    for (float v = kLow; v < -87.0f; v += 1e-4f) x.push_back(v);
    for (float v = 88.0f; v < kHigh; v += 1e-4f) x.push_back(v);
    const std::vector<float> y = vector_exp(x);
    for (std::size_t i = 0; i < x.size(); ++i) {
      INFO("x = " << x[i] << " got " << y[i]);
      CHECK(ulp_error(y[i], std::exp(static_cast<double>(x[i]))) < 2.0);
    }
    CHECK(y[0] > 0.0f);
    CHECK(y[0] <= std::numeric_limits<float>::min());
  }
  SECTION("above kHigh: e^kHigh, finite") {
    const std::vector<float> at = vector_exp({kHigh});
    REQUIRE(std::isfinite(at[0]));
    const std::vector<float> y = vector_exp({std::nextafter(kHigh, inf), 88.5f, 88.73f, 89.0f, 1e4f, 1e30f, max, inf});
    for (float v : y) CHECK(std::bit_cast<std::uint32_t>(v) == std::bit_cast<std::uint32_t>(at[0]));
  }
  SECTION("below kLow: +0") {
    const std::vector<float> y = vector_exp({std::nextafter(kLow, -inf), -87.5f, -100.0f, -1e4f, -1e30f, -max, -inf});
    for (float v : y) CHECK(std::bit_cast<std::uint32_t>(v) == 0u);
  }
  SECTION("zero, subnormal and tiny inputs: exactly 1") {
    const float min = std::numeric_limits<float>::min(), denorm = std::numeric_limits<float>::denorm_min();
    const std::vector<float> y = vector_exp({0.0f, -0.0f, denorm, -denorm, min / 2, -min / 2, min, -min, 1e-30f, -1e-30f});
    for (float v : y) CHECK(v == 1.0f);
  }
  SECTION("NaN: the input itself, sign and payload kept") {
    std::vector<float> x = {from_bits(0x7fc00000u), from_bits(0xffc00000u), from_bits(0x7fc12345u), from_bits(0xffedcba9u)};
    const std::vector<float> y = vector_exp(x);
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(std::bit_cast<std::uint32_t>(y[i]) == std::bit_cast<std::uint32_t>(x[i]));
  }
}

TEST_CASE("vector exp and log give an element the same bits wherever it sits in the array",
          "[runtime][kernels][vector_math]") {
  // Vector body, vector remainder or scalar tail: a clone may run any of them
  // for a given element, and none may round differently.
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> exp_inputs = {kLow, kHigh, -inf, inf, -0.5f, 3.25f, -1e-30f, std::nanf(""), -20.0f};
  const std::vector<float> log_inputs = {1.0f, 2.0f, 0.7071067f, 0.70710677f, 1.5f, 10.0f, 1e-30f, 3e38f,
                                         std::numeric_limits<float>::min()};
  for (std::size_t n = 1; n <= 41; ++n) {
    for (std::size_t k = 0; k < exp_inputs.size(); ++k) {
      std::vector<float> x(n);
      for (std::size_t i = 0; i < n; ++i) x[i] = exp_inputs[(i + k) % exp_inputs.size()];
      std::vector<float> one(x), all(x);
      kiln::kernels::detail::exp_in_place(all.data(), n);
      for (std::size_t i = 0; i < n; ++i) kiln::kernels::detail::exp_in_place(one.data() + i, 1);
      INFO("exp, n " << n << " rotation " << k);
      CHECK(std::memcmp(one.data(), all.data(), n * sizeof(float)) == 0);
    }
    for (std::size_t k = 0; k < log_inputs.size(); ++k) {
      std::vector<float> x(n);
      for (std::size_t i = 0; i < n; ++i) x[i] = log_inputs[(i + k) % log_inputs.size()];
      std::vector<float> one(x), all(x);
      kiln::kernels::detail::log_in_place(all.data(), n);
      for (std::size_t i = 0; i < n; ++i) kiln::kernels::detail::log_in_place(one.data() + i, 1);
      INFO("log, n " << n << " rotation " << k);
      CHECK(std::memcmp(one.data(), all.data(), n * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("vector log at its edges: where the mantissa splits at sqrt(1/2), powers of two, the normal range's ends",
          "[runtime][kernels][vector_math]") {
  // log_in_place takes m in [√½, 1) as is and doubles m below √½: the
  // mantissas on both sides of that split, under exponents across the range.
  const std::uint32_t split = std::bit_cast<std::uint32_t>(0.707106781186547524f) & 0x007fffffu;
  std::vector<float> x;
  for (std::uint32_t exponent : {1u, 2u, 100u, 125u, 126u, 127u, 128u, 200u, 253u, 254u})
    for (std::uint32_t mantissa : {0u, 1u, split - 2, split - 1, split, split + 1, 0x007fffffu})
      x.push_back(from_bits(exponent << 23 | mantissa));
  for (int e = -126; e <= 127; ++e) x.push_back(std::ldexp(1.0f, e));
  x.push_back(std::numeric_limits<float>::max());
  std::vector<float> y = x;
  kiln::kernels::detail::log_in_place(y.data(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = std::log(static_cast<double>(x[i]));
    INFO("x = " << x[i] << " (bits " << std::hex << std::bit_cast<std::uint32_t>(x[i]) << std::dec << ") got " << y[i]
                << " want " << want);
    // Near x = 1 the result is tiny: judge it relative to the argument's ulp.
    CHECK((std::fabs(want) < 1e-3 ? std::fabs(y[i] - want) / 1.2e-7 : ulp_error(y[i], want)) < 2.0);
    if (x[i] == 1.0f) CHECK(y[i] == 0.0f);
  }
}

TEST_CASE("vector log is within 2 ulp of libm for positive normal floats", "[runtime][kernels][vector_math]") {
  std::vector<float> x;
  for (double v = 1e-30; v < 1e30; v *= 1.00731) x.push_back(static_cast<float>(v));
  x.push_back(1.0f);
  std::vector<float> y = x;
  kiln::kernels::detail::log_in_place(y.data(), y.size());
  double worst = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    double want = std::log(static_cast<double>(x[i]));
    // Near x = 1 the result is tiny: judge it relative to the argument's ulp.
    worst = std::max(worst, std::fabs(want) < 1e-3 ? std::fabs(y[i] - want) / 1.2e-7 : ulp_error(y[i], want));
  }
  CHECK(worst < 2.0);
  CHECK(y.back() == 0.0f);
}

TEST_CASE("row max and row sum agree with plain loops for narrow and wide rows", "[runtime][kernels][vector_math]") {
  for (std::size_t cols : {1u, 3u, 10u, 17u, 100u}) {
    const std::size_t rows = 37;
    std::vector<float> x(rows * cols);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) * 5);
    std::vector<float> max_of(rows), sum_of(rows);
    kiln::kernels::detail::row_max(x.data(), rows, cols, max_of.data());
    kiln::kernels::detail::row_sum(x.data(), rows, cols, sum_of.data());
    for (std::size_t r = 0; r < rows; ++r) {
      float m = x[r * cols];
      double s = 0, magnitude = 0;  // any order of float additions is within a few ulp of Σ|x|
      for (std::size_t j = 0; j < cols; ++j) {
        m = std::max(m, x[r * cols + j]);
        s += x[r * cols + j];
        magnitude += std::fabs(x[r * cols + j]);
      }
      INFO("cols " << cols << " row " << r);
      CHECK(max_of[r] == m);
      CHECK(sum_of[r] == Approx(s).margin(1e-6 * magnitude));
    }
  }
}

namespace {

// Logits whose rows differ in scale: groups that share one shift and groups
// that spread too far for it (rows 0..4 tiny, a row near ±60, a row at 1000).
std::vector<float> mixed_logits(std::size_t rows, std::size_t cols) {
  std::vector<float> z(rows * cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) {
      double base = std::sin(0.71 * static_cast<double>(r * cols + j));
      double scale = r % 7 == 3 ? 60.0 : (r % 11 == 5 ? 1000.0 : 2.0);
      z[r * cols + j] = static_cast<float>(base * scale + (r % 5 == 1 ? 30.0 : 0.0));
    }
  return z;
}

}  // namespace

TEST_CASE("softmax numerators give each row's softmax to float precision, in place too", "[runtime][kernels][vector_math]") {
  for (std::size_t cols : {1u, 3u, 5u, 8u, 10u, 16u, 17u, 40u, 130u}) {
    const std::size_t rows = 300;
    const std::vector<float> z = mixed_logits(rows, cols);
    for (bool in_place : {false, true}) {
      std::vector<float> out = in_place ? z : std::vector<float>(z.size()), shift(rows);
      kiln::kernels::detail::softmax_numerators(in_place ? out.data() : z.data(), rows, cols, out.data(), shift.data());
      for (std::size_t r = 0; r < rows; ++r) {
        double m = z[r * cols], total = 0, got_total = 0;
        for (std::size_t j = 0; j < cols; ++j) m = std::max(m, static_cast<double>(z[r * cols + j]));
        for (std::size_t j = 0; j < cols; ++j) total += std::exp(z[r * cols + j] - m);
        for (std::size_t j = 0; j < cols; ++j) got_total += out[r * cols + j];
        INFO("cols " << cols << " row " << r << (in_place ? " in place" : ""));
        REQUIRE(got_total > 0);
        // The row's shift is its max or within 16 of it.
        CHECK(shift[r] >= m);
        CHECK(shift[r] - m <= 16.0);
        for (std::size_t j = 0; j < cols; ++j) {
          double want = std::exp(z[r * cols + j] - m) / total;
          double got = out[r * cols + j] / got_total;
          INFO("column " << j << " got " << got << " want " << want << " shift " << shift[r] << " max " << m);
          // The float subtraction z − shift rounds to half an ulp of the
          // difference, which the exponential turns into a relative error.
          const double argument_rounding = std::fabs(z[r * cols + j] - m) * 0x1p-24;
          CHECK(std::fabs(got - want) <= (4e-7 + argument_rounding) * want + 1e-30);
        }
      }
    }
  }
}

namespace {

// n floats ending exactly where an inaccessible page begins: a kernel that
// reads or writes one float past them faults, and the test with it.
class GuardedFloats {
 public:
  explicit GuardedFloats(std::size_t n) : n_(n) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t data_pages = (n * sizeof(float) + page - 1) / page;
    bytes_ = (data_pages + 1) * page;
    void* at = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(at != MAP_FAILED);
    base_ = static_cast<char*>(at);
    REQUIRE(mprotect(base_ + data_pages * page, page, PROT_NONE) == 0);
    data_ = reinterpret_cast<float*>(base_ + data_pages * page) - n;
  }
  ~GuardedFloats() { munmap(base_, bytes_); }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;
  float* data() { return data_; }
  std::size_t size() const { return n_; }

 private:
  std::size_t n_, bytes_;
  char* base_;
  float* data_;
};

}  // namespace

TEST_CASE("softmax numerators shift rows that spread by exactly their own max, touching only their rows",
          "[runtime][kernels][vector_math]") {
  // Odd and even rows 40 apart, so every group of rows spreads too far to
  // share a shift and every row takes the per-row path; the rows near the
  // buffer's end, which a whole vector would overrun, included.
  std::vector<std::size_t> widths;
  for (std::size_t cols = 1; cols <= 17; ++cols) widths.push_back(cols);
  for (std::size_t cols : {24u, 31u, 32u, 33u, 40u, 100u, 127u}) widths.push_back(cols);
  for (std::size_t cols : widths)
    for (std::size_t rows : {1u, 2u, 3u, 13u, 37u, 301u})
      for (bool in_place : {false, true}) {
        std::vector<float> z(rows * cols);
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t j = 0; j < cols; ++j)
            z[r * cols + j] = static_cast<float>(std::sin(0.71 * static_cast<double>(r * cols + j)) * 5 + (r % 2 == 1 ? 40.0 : 0.0));
        GuardedFloats input(z.size()), output(z.size());
        std::memcpy(input.data(), z.data(), z.size() * sizeof(float));
        float* out = in_place ? input.data() : output.data();
        std::vector<float> shift(rows, -1.0f);
        kiln::kernels::detail::softmax_numerators(input.data(), rows, cols, out, shift.data());
        if (!in_place) CHECK(std::memcmp(input.data(), z.data(), z.size() * sizeof(float)) == 0);
        for (std::size_t r = 0; r < rows; ++r) {
          const float* zr = z.data() + r * cols;
          const float row_max = *std::max_element(zr, zr + cols);
          std::vector<float> want(cols);
          kiln::kernels::detail::exp_shifted(zr, cols, row_max, want.data());
          INFO("cols " << cols << " rows " << rows << " row " << r << (in_place ? " in place" : ""));
          CHECK(shift[r] == row_max);
          CHECK(std::memcmp(out + r * cols, want.data(), cols * sizeof(float)) == 0);
        }
      }
}

TEST_CASE("column sums agree with a plain loop for every width", "[runtime][kernels][vector_math]") {
  for (std::size_t cols : {1u, 3u, 10u, 16u, 17u, 63u, 64u, 100u, 130u}) {
    for (std::size_t rows : {1u, 2u, 37u, 1257u}) {
      std::vector<float> x(rows * cols);
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::cos(0.13 * static_cast<double>(i)));
      std::vector<float> got(cols, -1.0f);
      kiln::kernels::detail::column_sum(x.data(), rows, cols, got.data());
      for (std::size_t j = 0; j < cols; ++j) {
        double want = 0;
        for (std::size_t r = 0; r < rows; ++r) want += x[r * cols + j];
        INFO("rows " << rows << " cols " << cols << " column " << j);
        CHECK(got[j] == Approx(want).margin(2e-6 * static_cast<double>(rows)));
      }
    }
  }
}

TEST_CASE("min_max, scale_rows and relu_backward agree with plain loops", "[runtime][kernels][vector_math]") {
  std::vector<float> x(1001);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(1.3 * static_cast<double>(i)) * 7);
  x[617] = 9.5f;
  x[3] = -8.25f;
  // Lengths around each vector width a clone may use (4, 8, 16 floats).
  for (std::size_t n : {1u, 3u, 4u, 5u, 7u, 8u, 9u, 15u, 16u, 17u, 1001u}) {
    float lo = 0, hi = 0;
    kiln::kernels::detail::min_max(x.data(), n, &lo, &hi);
    CHECK(lo == *std::min_element(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n)));
    CHECK(hi == *std::max_element(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n)));
  }
  const std::size_t rows = 7, cols = 11;
  std::vector<float> m(x.begin(), x.begin() + rows * cols), factor(rows);
  for (std::size_t r = 0; r < rows; ++r) factor[r] = static_cast<float>(r) - 2.5f;
  kiln::kernels::detail::scale_rows(m.data(), rows, cols, factor.data());
  for (std::size_t i = 0; i < rows * cols; ++i) CHECK(m[i] == x[i] * factor[i / cols]);
  std::vector<float> dy(x.rbegin(), x.rend()), dx(x.size());
  kiln::kernels::detail::relu_backward(dy.data(), x.data(), dx.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(dx[i] == (x[i] > 0 ? dy[i] : 0.0f));
}
