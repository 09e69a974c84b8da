// The vectorised math behind the softmax family (runtime/kernels/
// vector_math.hpp) against libm in double: exp and log across their ranges,
// the edge values, and the row max/sum helpers against plain loops.
#include <catch2/catch.hpp>

#include <cmath>
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
      double s = 0;
      for (std::size_t j = 0; j < cols; ++j) {
        m = std::max(m, x[r * cols + j]);
        s += x[r * cols + j];
      }
      INFO("cols " << cols << " row " << r);
      CHECK(max_of[r] == m);
      CHECK(sum_of[r] == Approx(s).margin(1e-5));
    }
  }
}
