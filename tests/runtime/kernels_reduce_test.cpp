#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

// Sum (or mean) of x over `axis`, by explicit multi-index arithmetic.
std::vector<double> reduce_reference(const Tensor& x, std::optional<int> axis, bool average) {
  std::vector<double> v = vals(x);
  if (!axis) {
    double s = 0;
    for (double e : v) s += e;
    return {average ? s / static_cast<double>(v.size()) : s};
  }
  const auto& dims = x.shape().dims();
  int a = *axis < 0 ? *axis + static_cast<int>(dims.size()) : *axis;
  std::size_t outer = 1, inner = 1, n = static_cast<std::size_t>(dims[a]);
  for (int i = 0; i < a; ++i) outer *= static_cast<std::size_t>(dims[i]);
  for (std::size_t i = a + 1; i < dims.size(); ++i) inner *= static_cast<std::size_t>(dims[i]);
  std::vector<double> out(outer * inner, 0.0);
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t k = 0; k < n; ++k)
      for (std::size_t i = 0; i < inner; ++i) out[o * inner + i] += v[(o * n + k) * inner + i];
  if (average)
    for (double& e : out) e /= static_cast<double>(n);
  return out;
}

}  // namespace

TEST_CASE("sum and mean reduce over every axis variant", "[runtime][kernels]") {
  std::mt19937 rng(4);
  const std::pair<Shape, std::optional<int>> cases[] = {
      {Shape{4, 6}, std::nullopt}, {Shape{4, 6}, 0},  {Shape{4, 6}, 1},         {Shape{4, 6}, -1},
      {Shape{2, 3, 5}, 0},         {Shape{2, 3, 5}, 1}, {Shape{2, 3, 5}, 2},     {Shape{2, 3, 5}, std::nullopt},
      {Shape{1, 5}, 0},            {Shape{5, 1}, 1},  {Shape{9}, 0},            {Shape{}, std::nullopt},
      {Shape{3, 1, 4}, 1},
  };
  for (DType dt : kFloatTypes)
    for (bool average : {false, true})
      for (const auto& [shape, ax] : cases) {
        INFO((average ? "mean " : "sum ") << dtype_name(dt) << " " << shape.str() << " axis "
                                          << (ax ? std::to_string(*ax) : "all"));
        Tensor x = random_tensor(shape, dt, rng);
        Tensor y = run_op(average ? OpKind::mean : OpKind::sum, {x}, axis(ax));
        check_close(y, reduce_reference(x, ax, average));
      }
}

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

TEST_CASE("l2 is half the sum of squares", "[runtime][kernels]") {
  std::mt19937 rng(5);
  for (DType dt : kFloatTypes)
    for (const Shape& s : {Shape{3, 4}, Shape{}, Shape{2, 1, 3}}) {
      Tensor x = random_tensor(s, dt, rng);
      double want = 0;
      for (double v : vals(x)) want += v * v;
      check_close(run_op(OpKind::l2, {x}), {0.5 * want});
    }
}
