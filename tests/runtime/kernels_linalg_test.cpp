// GEMM-based kernels on shapes larger than the op table's (tests/ops), past
// the small-size paths: the blocked and vectorised code of each backend.
#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

// C = op(A)·op(B) by the definition, reading A and B through explicit
// transposed indexing.
std::vector<double> matmul_reference(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  std::vector<double> av = vals(a), bv = vals(b);
  std::int64_t a0 = a.shape()[0], a1 = a.shape()[1], b0 = b.shape()[0], b1 = b.shape()[1];
  std::int64_t m = ta ? a1 : a0, k = ta ? a0 : a1, n = tb ? b0 : b1;
  auto A = [&](std::int64_t i, std::int64_t p) { return ta ? av[p * a1 + i] : av[i * a1 + p]; };
  auto B = [&](std::int64_t p, std::int64_t j) { return tb ? bv[j * b1 + p] : bv[p * b1 + j]; };
  std::vector<double> c(static_cast<std::size_t>(m * n), 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t p = 0; p < k; ++p) c[i * n + j] += A(i, p) * B(p, j);
  return c;
}

Attrs transposes(bool ta, bool tb) {
  Attrs a;
  a.transpose_a = ta;
  a.transpose_b = tb;
  return a;
}

}  // namespace

TEST_CASE("matmul honours every transpose combination on a shape past the small-size paths", "[runtime][kernels]") {
  std::mt19937 rng(6);
  // (m, k, n): odd sizes, none a multiple of a vector width.
  const std::int64_t dims[][3] = {{17, 33, 9}};
  for (DType dt : kFloatTypes)
    for (const auto& d : dims)
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          std::int64_t m = d[0], k = d[1], n = d[2];
          Shape sa = ta ? Shape{k, m} : Shape{m, k};
          Shape sb = tb ? Shape{n, k} : Shape{k, n};
          INFO(dtype_name(dt) << " " << sa.str() << (ta ? "ᵀ" : "") << " x " << sb.str() << (tb ? "ᵀ" : ""));
          Tensor a = random_tensor(sa, dt, rng), b = random_tensor(sb, dt, rng);
          Tensor c = run_op(OpKind::matmul, {a, b}, transposes(ta, tb));
          REQUIRE(c.shape() == (Shape{m, n}));
          check_close(c, matmul_reference(a, b, ta, tb), 10 * tolerance(dt) * std::sqrt(double(k)));
        }
}

TEST_CASE("dot is the inner product of two long vectors", "[runtime][kernels]") {
  std::mt19937 rng(7);
  for (DType dt : kFloatTypes)
    for (std::int64_t n : {1000}) {
      Tensor a = random_tensor(Shape{n}, dt, rng), b = random_tensor(Shape{n}, dt, rng);
      double want = 0;
      for (std::int64_t i = 0; i < n; ++i) want += a.get(i) * b.get(i);
      check_close(run_op(OpKind::dot, {a, b}), {want}, 10 * tolerance(dt) * std::sqrt(double(n)));
    }
}

TEST_CASE("affine adds the bias to every row of x·W, affine_relu then clamps, on a layer-sized shape",
          "[runtime][kernels]") {
  std::mt19937 rng(8);
  const std::int64_t dims[][3] = {{32, 64, 10}};
  for (DType dt : kFloatTypes)
    for (const auto& d : dims) {
      Tensor x = random_tensor(Shape{d[0], d[1]}, dt, rng);
      Tensor w = random_tensor(Shape{d[1], d[2]}, dt, rng);
      Tensor b = random_tensor(Shape{d[2]}, dt, rng);
      std::vector<double> want = matmul_reference(x, w, false, false);
      for (std::size_t i = 0; i < want.size(); ++i) want[i] += b.get(i % static_cast<std::size_t>(d[2]));
      double tol = 10 * tolerance(dt) * std::sqrt(double(d[1]));
      INFO(dtype_name(dt) << " x " << x.shape().str() << " W " << w.shape().str());
      check_close(run_op(OpKind::affine, {x, w, b}), want, tol);
      for (double& v : want) v = v > 0 ? v : 0.0;
      check_close(run_op(OpKind::affine_relu, {x, w, b}), want, tol);
    }
}
