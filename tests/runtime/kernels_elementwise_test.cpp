// Elementwise kernels at values the op table (tests/ops) does not draw:
// large magnitudes, NaN and negative zero.
#include <cmath>

#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

TEST_CASE("sigmoid is finite and exact at large magnitudes", "[runtime][kernels]") {
  for (DType dt : kFloatTypes) {
    Tensor x = Tensor::from_values(Shape{6}, dt, {-1000, -100, -30, 30, 100, 1000});
    Tensor y = run_op(OpKind::sigmoid, {x});
    for (std::size_t i = 0; i < 6; ++i) CHECK(std::isfinite(y.get(i)));
    CHECK(y.get(0) == 0.0);
    CHECK(y.get(5) == 1.0);
    // σ(−30) ≈ 9.36e-14 must not collapse to 0 through 1 − σ(30).
    CHECK(y.get(2) == Approx(1.0 / (1.0 + std::exp(30.0))).epsilon(1e-5));
  }
}

TEST_CASE("relu keeps NaN visible and maps negative zero to itself or zero", "[runtime][kernels]") {
  Tensor x = Tensor::from_values(Shape{3}, DType::f64, {std::nan(""), -0.0, -1.0});
  Tensor y = run_op(OpKind::relu, {x});
  CHECK(std::isnan(y.get(0)));
  CHECK(y.get(1) == 0.0);
  CHECK(y.get(2) == 0.0);
}
