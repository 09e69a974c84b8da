#include <cmath>
#include <functional>

#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

// b is a's shape, a scalar or a trailing part of a's shape (a bias).
std::vector<double> broadcast_reference(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  std::vector<double> av = vals(a), bv = vals(b), out(av.size());
  for (std::size_t i = 0; i < av.size(); ++i) out[i] = f(av[i], bv[i % bv.size()]);
  return out;
}

struct BinaryCase {
  OpKind op;
  std::function<double(double, double)> f;
};

}  // namespace

TEST_CASE("add, sub and mul broadcast equal shapes, scalars and trailing vectors", "[runtime][kernels]") {
  std::mt19937 rng(1);
  const BinaryCase cases[] = {{OpKind::add, std::plus<double>()},
                              {OpKind::sub, std::minus<double>()},
                              {OpKind::mul, std::multiplies<double>()}};
  const std::pair<Shape, Shape> shapes[] = {
      {Shape{4, 3}, Shape{4, 3}},        // equal
      {Shape{4, 3}, Shape{}},            // scalar
      {Shape{4, 3}, Shape{3}},           // bias over rows
      {Shape{2, 3, 5}, Shape{3, 5}},     // trailing matrix over a leading axis
      {Shape{2, 3, 5}, Shape{5}},        // bias over two leading axes
      {Shape{1, 1}, Shape{1}},           // size-1 dims
      {Shape{7}, Shape{7}},
      {Shape{5, 1}, Shape{1}},
  };
  for (DType dt : kFloatTypes)
    for (const auto& c : cases)
      for (const auto& [sa, sb] : shapes) {
        INFO(op_name(c.op) << " " << dtype_name(dt) << " " << sa.str() << " with " << sb.str());
        Tensor a = random_tensor(sa, dt, rng), b = random_tensor(sb, dt, rng);
        check_close(run_op(c.op, {a, b}), broadcast_reference(a, b, c.f));
      }
}

TEST_CASE("div divides by an equal-shaped tensor or a scalar", "[runtime][kernels]") {
  std::mt19937 rng(2);
  for (DType dt : kFloatTypes)
    for (const Shape& sb : {Shape{3, 4}, Shape{}}) {
      INFO(dtype_name(dt) << " divisor " << sb.str());
      Tensor a = random_tensor(Shape{3, 4}, dt, rng), b = random_tensor(sb, dt, rng, 0.5, 3.0);
      check_close(run_op(OpKind::div, {a, b}), broadcast_reference(a, b, std::divides<double>()));
    }
}

TEST_CASE("unary elementwise ops match their definitions", "[runtime][kernels]") {
  std::mt19937 rng(3);
  struct UnaryCase {
    OpKind op;
    double factor;
    std::function<double(double)> f;
    double low, high;
  };
  const UnaryCase cases[] = {
      {OpKind::neg, 1, [](double x) { return -x; }, -3, 3},
      {OpKind::scale, -2.5, [](double x) { return -2.5 * x; }, -3, 3},
      {OpKind::relu, 1, [](double x) { return x > 0 ? x : 0.0; }, -3, 3},
      {OpKind::sigmoid, 1, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, -8, 8},
      {OpKind::tanh, 1, [](double x) { return std::tanh(x); }, -4, 4},
      {OpKind::exp, 1, [](double x) { return std::exp(x); }, -5, 5},
      {OpKind::log, 1, [](double x) { return std::log(x); }, 0.01, 50},
      {OpKind::square, 1, [](double x) { return x * x; }, -3, 3},
  };
  for (DType dt : kFloatTypes)
    for (const auto& c : cases)
      for (const Shape& s : {Shape{5, 7}, Shape{}, Shape{1, 1, 3}}) {
        INFO(op_name(c.op) << " " << dtype_name(dt) << " " << s.str());
        Tensor x = random_tensor(s, dt, rng, c.low, c.high);
        Attrs a;
        a.factor = c.factor;
        std::vector<double> want;
        for (double v : vals(x)) want.push_back(c.f(v));
        check_close(run_op(c.op, {x}, a), want);
      }
}

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
