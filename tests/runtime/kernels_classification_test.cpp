// The classification kernels at values and shapes the op table (tests/ops)
// does not draw: logits of ±1000, zero probabilities, and loss rows wider than
// the f32 kernel's block of planned scratch.
#include <algorithm>
#include <cmath>
#include <random>

#include "tests/runtime/classification_targets.hpp"
#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

// Softmax (or log-softmax) of x along `ax` (last when absent), lane by lane
// with multi-index arithmetic, in long double.
std::vector<double> softmax_reference(const Tensor& x, std::optional<int> ax, bool log_space) {
  const auto& dims = x.shape().dims();
  int rank = static_cast<int>(dims.size());
  int a = ax ? (*ax < 0 ? *ax + rank : *ax) : rank - 1;
  std::size_t outer = 1, inner = 1, n = static_cast<std::size_t>(dims[a]);
  for (int i = 0; i < a; ++i) outer *= static_cast<std::size_t>(dims[i]);
  for (int i = a + 1; i < rank; ++i) inner *= static_cast<std::size_t>(dims[i]);
  std::vector<double> v = vals(x), out(v.size());
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t i = 0; i < inner; ++i) {
      auto at = [&](std::size_t k) { return (o * n + k) * inner + i; };
      long double m = v[at(0)];
      for (std::size_t k = 1; k < n; ++k) m = std::max<long double>(m, v[at(k)]);
      long double s = 0;
      for (std::size_t k = 0; k < n; ++k) s += std::exp(static_cast<long double>(v[at(k)]) - m);
      for (std::size_t k = 0; k < n; ++k) {
        long double z = static_cast<long double>(v[at(k)]) - m;
        out[at(k)] = static_cast<double>(log_space ? z - std::log(s) : std::exp(z) / s);
      }
    }
  return out;
}

}  // namespace

TEST_CASE("softmax and log_softmax stay finite and exact for logits of ±1000", "[runtime][kernels]") {
  for (DType dt : kFloatTypes) {
    Tensor x = Tensor::from_values(Shape{2, 3}, dt, {1000, -1000, 0, 1000, 1000, -1000});
    Tensor s = run_op(OpKind::softmax, {x});
    check_close(s, {1, 0, 0, 0.5, 0.5, 0});
    Tensor ls = run_op(OpKind::log_softmax, {x});
    check_close(ls, {0, -2000, -1000, -std::log(2.0), -std::log(2.0), -2000 - std::log(2.0)});
  }
}

TEST_CASE("cross_entropy treats 0·log 0 as 0 for soft targets", "[runtime][kernels]") {
  Tensor p = Tensor::from_values(Shape{1, 3}, DType::f64, {0.5, 0.5, 0.0});
  Tensor t = Tensor::from_values(Shape{1, 3}, DType::f64, {0.5, 0.5, 0.0});
  check_close(run_op(OpKind::cross_entropy, {p, t}), {std::log(2.0)});
}

TEST_CASE("softmax_cross_entropy equals cross_entropy of the softmax", "[runtime][kernels]") {
  std::mt19937 rng(11);
  // [rows, cols]: a few narrow rows; several of the f32 kernel's blocks of
  // rows in its scratch (300 × 10; 5 × 700, two rows a block); rows wider
  // than a block (3 × 3000), one a block.
  const std::pair<std::size_t, std::size_t> shapes[] = {{6, 1}, {6, 3}, {6, 10}, {300, 10}, {5, 700}, {3, 3000}};
  for (DType dt : kFloatTypes)
    for (auto [rows, cols] : shapes) {
      Tensor z = random_tensor(Shape{static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)}, dt, rng, -4, 4);
      std::vector<double> ids_v;
      for (std::size_t r = 0; r < rows; ++r) ids_v.push_back(static_cast<double>((r * 7) % cols));
      Tensor ids = class_ids(ids_v);
      Tensor onehot = Tensor::from_values(z.shape(), dt, dense_targets(ids, rows, cols));
      Tensor soft = soft_targets(rows, cols, dt, rng);
      std::vector<double> logp = softmax_reference(z, std::nullopt, true);
      for (const Tensor* t : {&ids, &onehot, &soft}) {
        if (cols == 1 && t == &soft) continue;  // a single class has no soft targets with a zero
        INFO(dtype_name(dt) << " " << cols << " classes, targets " << t->type_str());
        std::vector<double> td = dense_targets(*t, rows, cols);
        double want = 0;
        for (std::size_t i = 0; i < td.size(); ++i) want -= td[i] * logp[i];
        check_close(run_op(OpKind::softmax_cross_entropy, {z, *t}, {}, std::nullopt,
                           static_cast<std::int64_t>(cols)),
                    {want / rows});
      }
    }
}

TEST_CASE("softmax_cross_entropy is finite and exact for logits of ±1000", "[runtime][kernels]") {
  for (DType dt : kFloatTypes) {
    INFO(dtype_name(dt));
    Tensor z = Tensor::from_values(Shape{3, 3}, dt, {1000, -1000, 0, -1000, 1000, 0, 1000, 1000, -1000});
    // Row losses: logsumexp − z[label] = 1000 − (−1000), 1000 − 1000, (1000 + log 2) − 1000.
    Tensor ids = class_ids({1, 1, 0});
    Tensor loss = run_op(OpKind::softmax_cross_entropy, {z, ids}, {}, std::nullopt, 3);
    REQUIRE(std::isfinite(loss.get(0)));
    check_close(loss, {(2000.0 + 0.0 + std::log(2.0)) / 3.0});
    Tensor onehot = Tensor::from_values(Shape{3, 3}, dt, {0, 1, 0, 0, 1, 0, 1, 0, 0});
    check_close(run_op(OpKind::softmax_cross_entropy, {z, onehot}), {(2000.0 + std::log(2.0)) / 3.0});
    // Only the tied row costs anything when the other labels are right.
    Tensor right = class_ids({0, 1, 0});
    check_close(run_op(OpKind::softmax_cross_entropy, {z, right}, {}, std::nullopt, 3), {std::log(2.0) / 3.0});
  }
}
