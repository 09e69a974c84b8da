// Reductions of a size the op table (tests/ops) keeps away from: a full f32
// sum must not lose its digits.
#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

TEST_CASE("a full f32 sum of many terms keeps its digits", "[runtime][kernels]") {
  // 2^24 + 1 ones: an f32 running sum would stop at 2^24.
  const std::int64_t n = (1 << 24) + 1;
  Tensor x(Shape{n}, DType::f32);
  float* p = x.data<float>();
  for (std::int64_t i = 0; i < n; ++i) p[i] = 1.0f;
  Tensor mean = run_op(OpKind::mean, {x});
  CHECK(mean.get(0) == 1.0);
  Tensor small = Tensor::from_values(Shape{3}, DType::f32, {1e8, 1, -1e8});
  CHECK(run_op(OpKind::sum, {small}).get(0) == 1.0);
}
