#pragma once
// Targets for the classification kernels' tests, shared by the loss kernels'
// and the two-output loss kernel's tests.
#include <random>
#include <vector>

#include "tests/runtime/harness.hpp"

namespace kiln::test {

// Targets as dense rows: class ids become one-hot rows.
inline std::vector<double> dense_targets(const Tensor& t, std::size_t rows, std::size_t cols) {
  if (t.dtype() != DType::i32) return vals(t);
  std::vector<double> d(rows * cols, 0.0);
  for (std::size_t r = 0; r < rows; ++r) d[r * cols + static_cast<std::size_t>(t.get(r))] = 1.0;
  return d;
}

// Row-stochastic soft targets with some exact zeros.
inline Tensor soft_targets(std::size_t rows, std::size_t cols, DType dt, std::mt19937& rng) {
  Tensor t = random_tensor(Shape{static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)}, dt, rng, 0, 1);
  for (std::size_t r = 0; r < rows; ++r) {
    t.set(r * cols + (r % cols), 0.0);
    double s = 0;
    for (std::size_t c = 0; c < cols; ++c) s += t.get(r * cols + c);
    for (std::size_t c = 0; c < cols; ++c) t.set(r * cols + c, t.get(r * cols + c) / s);
  }
  return t;
}

}  // namespace kiln::test
