// softmax_cross_entropy_with_grad, the two-output loss: output 0 must be
// softmax_cross_entropy's value and output 1 softmax_cross_entropy_grad's
// for an incoming gradient of 1, both against the kernels they replace and
// against a long-double reference, for every target form, for rows and
// columns past the f32 kernel's block sizes, and for logits of ±1000.
#include <cmath>

#include "runtime/kernels.hpp"
#include "tests/runtime/classification_targets.hpp"
#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

struct LossAndGrad {
  Tensor loss, grad;
};

// The fused node "y" over leaves x0 (logits) and x1 (targets), its gradient
// read through get_output "dz", run by the Executor.
LossAndGrad run_fused(const Tensor& z, const Tensor& t, std::int64_t classes) {
  Graph g;
  NodeId zi = g.add_explicit(OpKind::input, {}, z.shape(), z.dtype(), {}, "x0");
  Attrs la;
  la.classes = classes;
  NodeId ti = t.dtype() == DType::i32 ? g.add_explicit(OpKind::labels, {}, t.shape(), DType::i32, la, "x1")
                                      : g.add_explicit(OpKind::input, {}, t.shape(), t.dtype(), {}, "x1");
  NodeId y = g.add(OpKind::softmax_cross_entropy_with_grad, {zi, ti}, {}, "y");
  g.add(OpKind::get_output, {y}, {}, "dz");
  Executor ex(g);
  ex.feed("x0", z);
  ex.feed("x1", t);
  ex.run();
  return {ex.value("y"), ex.value("dz")};
}

// Mean over rows of Σ t·(logsumexp(z) − z), and (softmax(z)·Σt − t)/rows,
// in long double from the (rounded) inputs.
std::pair<double, std::vector<double>> reference(const Tensor& z, const std::vector<double>& t, std::size_t rows,
                                                 std::size_t cols) {
  std::vector<double> v = vals(z), grad(rows * cols);
  long double total = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    long double m = v[r * cols];
    for (std::size_t j = 1; j < cols; ++j) m = std::max<long double>(m, v[r * cols + j]);
    long double s = 0, mass = 0;
    for (std::size_t j = 0; j < cols; ++j) {
      s += std::exp(static_cast<long double>(v[r * cols + j]) - m);
      mass += t[r * cols + j];
    }
    const long double lse = m + std::log(s);
    for (std::size_t j = 0; j < cols; ++j) {
      const std::size_t i = r * cols + j;
      total += t[i] * (lse - v[i]);
      const long double p = std::exp(static_cast<long double>(v[i]) - lse);
      grad[i] = static_cast<double>((p * mass - t[i]) / static_cast<long double>(rows));
    }
  }
  return {static_cast<double>(total / static_cast<long double>(rows)), grad};
}

}  // namespace

TEST_CASE("softmax_cross_entropy_with_grad: the loss and (softmax(z) − t)/rows of the two kernels it replaces",
          "[runtime][kernels][multi_output]") {
  std::mt19937 rng(23);
  // 300 rows and 2500 columns pass the f32 kernel's 256-row and 2048-float blocks.
  const std::pair<std::size_t, std::size_t> shapes[] = {{6, 1}, {6, 3}, {64, 10}, {300, 10}, {3, 2500}, {1, 4}};
  for (DType dt : kFloatTypes)
    for (auto [rows, cols] : shapes) {
      const Shape s{static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)};
      Tensor z = random_tensor(s, dt, rng, -6, 6);
      std::vector<double> ids_v;
      for (std::size_t r = 0; r < rows; ++r) ids_v.push_back(static_cast<double>((r * 7) % cols));
      Tensor ids = class_ids(ids_v);
      Tensor onehot = Tensor::from_values(s, dt, dense_targets(ids, rows, cols));
      Tensor soft = soft_targets(rows, cols, dt, rng);
      for (const Tensor* t : {&ids, &onehot, &soft}) {
        if (cols == 1 && t == &soft) continue;  // one class has no soft targets with a zero
        INFO(dtype_name(dt) << " " << s.str() << ", targets " << t->type_str());
        const auto classes = static_cast<std::int64_t>(cols);
        LossAndGrad fused = run_fused(z, *t, classes);
        Tensor one = Tensor::from_values(Shape{}, dt, {1.0});
        check_close(fused.loss, vals(run_op(OpKind::softmax_cross_entropy, {z, *t}, {}, std::nullopt, classes)));
        check_close(fused.grad,
                    vals(run_op(OpKind::softmax_cross_entropy_grad, {z, *t, one}, {}, std::nullopt, classes)));
        auto [loss, grad] = reference(z, dense_targets(*t, rows, cols), rows, cols);
        check_close(fused.loss, {loss});
        check_close(fused.grad, grad);
      }
    }
}

TEST_CASE("softmax_cross_entropy_with_grad is finite and exact for logits of ±1000", "[runtime][kernels][multi_output]") {
  for (DType dt : kFloatTypes) {
    INFO(dtype_name(dt));
    Tensor z = Tensor::from_values(Shape{3, 3}, dt, {1000, -1000, 0, -1000, 1000, 0, 1000, 1000, -1000});
    LossAndGrad r = run_fused(z, class_ids({1, 1, 0}), 3);
    check_close(r.loss, {(2000.0 + 0.0 + std::log(2.0)) / 3.0});
    // Row 0 puts all its mass on class 0 and its label is 1; row 1 is right;
    // row 2 splits evenly between classes 0 and 1, labelled 0.
    check_close(r.grad, {1.0 / 3, -1.0 / 3, 0, 0, 0, 0, -0.5 / 3, 0.5 / 3, 0});
  }
}

TEST_CASE("softmax_cross_entropy_with_grad without a gradient buffer computes the loss alone",
          "[runtime][kernels][multi_output]") {
  std::mt19937 rng(29);
  for (DType dt : kFloatTypes) {
    Tensor z = random_tensor(Shape{5, 4}, dt, rng);
    Tensor ids = class_ids({3, 0, 0, 2, 1});
    Tensor loss(Shape{}, dt);
    std::vector<TensorRef> in{z.ref(), ids.ref()};
    std::vector<BoundKernel> calls;
    const TensorRef unread[] = {TensorRef{nullptr, &z.shape(), dt}};
    bind_kernel(OpKind::softmax_cross_entropy_with_grad, in, loss.ref(), Attrs{}, calls, unread);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].call.extra_out[0].data == nullptr);
    calls[0].run();
    check_close(loss, vals(run_op(OpKind::softmax_cross_entropy, {z, ids}, {}, std::nullopt, 4)));
  }
}

TEST_CASE("bind_kernel hands every output pointer to a multi-output kernel", "[runtime][kernels][multi_output]") {
  Tensor z(Shape{2, 3}, DType::f32), ids = class_ids({0, 2}), loss, grad(Shape{2, 3}, DType::f32);
  std::vector<TensorRef> in{z.ref(), ids.ref()};
  std::vector<BoundKernel> calls;
  const TensorRef extra[] = {grad.ref()};
  bind_kernel(OpKind::softmax_cross_entropy_with_grad, in, loss.ref(), Attrs{}, calls, extra);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].call.out == loss.raw());
  CHECK(calls[0].call.extra_out[0].data == grad.raw());
  const TensorRef too_many[] = {grad.ref(), grad.ref()};
  CHECK_THROWS_WITH(bind_kernel(OpKind::softmax_cross_entropy_with_grad, in, loss.ref(), Attrs{}, calls, too_many),
                    Catch::Contains("has 1 outputs besides the first, found 2"));
}
