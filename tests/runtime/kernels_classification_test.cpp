// The classification kernels at values the op table (tests/ops) does not
// draw: logits of ±1000 and zero probabilities.
#include <cmath>

#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

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
