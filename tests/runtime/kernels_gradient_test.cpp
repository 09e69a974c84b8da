#include <cmath>

#include "passes/in_place.hpp"
#include "runtime/kernels.hpp"
#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

struct Lanes {
  std::size_t outer = 1, n = 1, inner = 1;
  std::size_t at(std::size_t o, std::size_t k, std::size_t i) const { return (o * n + k) * inner + i; }
};

Lanes lanes(const Shape& s, std::optional<int> ax) {
  int rank = static_cast<int>(s.rank());
  int a = ax ? (*ax < 0 ? *ax + rank : *ax) : rank - 1;
  Lanes l;
  for (int i = 0; i < a; ++i) l.outer *= static_cast<std::size_t>(s[i]);
  l.n = static_cast<std::size_t>(s[a]);
  for (int i = a + 1; i < rank; ++i) l.inner *= static_cast<std::size_t>(s[i]);
  return l;
}

// Central differences of the scalar loss `op`(z, t) with respect to z, in f64.
std::vector<double> numeric_gradient(OpKind op, const Tensor& z, const Tensor& t, std::int64_t classes) {
  std::vector<double> g(z.numel());
  for (std::size_t i = 0; i < z.numel(); ++i) {
    const double h = 1e-6;
    Tensor zp = z, zm = z;
    zp.set(i, z.get(i) + h);
    zm.set(i, z.get(i) - h);
    double fp = run_op(op, {zp, t}, {}, std::nullopt, classes).get(0);
    double fm = run_op(op, {zm, t}, {}, std::nullopt, classes).get(0);
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

Tensor scalar(double v, DType dt) { return Tensor::from_values(Shape{}, dt, {v}); }

}  // namespace

TEST_CASE("add_n sums any number of operands in one call", "[runtime][kernels]") {
  std::mt19937 rng(12);
  // 2100 elements: several of the kernel's tiles and a partial one.
  for (const Shape& shape : {Shape{2, 3}, Shape{3, 700}})
    for (DType dt : kFloatTypes)
      for (int count : {1, 2, 3, 4, 5, 7, 8, 9, 13}) {
        INFO(dtype_name(dt) << " " << shape.str() << " with " << count << " operands");
        std::vector<Tensor> xs;
        const auto n = static_cast<std::size_t>(shape.numel());
        std::vector<double> want(n, 0.0);
        for (int k = 0; k < count; ++k) {
          xs.push_back(random_tensor(shape, dt, rng));
          for (std::size_t i = 0; i < n; ++i) want[i] += xs.back().get(i);
        }
        check_close(run_op(OpKind::add_n, xs), want, 4 * tolerance(dt));
      }
}

TEST_CASE("bind_kernel binds an add_n of 9 operands as one call, in place on any of them", "[runtime][kernels]") {
  std::mt19937 rng(31);
  const Shape s{5, 211};  // 1055 elements: more than two of the kernel's tiles
  const auto n = static_cast<std::size_t>(s.numel());
  std::vector<Tensor> xs;
  std::vector<double> want(n, 0.0);
  for (int k = 0; k < 9; ++k) {
    xs.push_back(random_tensor(s, DType::f64, rng));
    for (std::size_t i = 0; i < n; ++i) want[i] += xs.back().get(i);
  }
  Attrs attrs;
  for (int target = -1; target < 9; ++target) {
    INFO((target < 0 ? std::string("into a buffer of its own") : "in place on operand " + std::to_string(target)));
    std::vector<Tensor> copies = xs;
    std::vector<TensorRef> refs;
    for (Tensor& t : copies) refs.push_back(t.ref());
    Tensor own(s, DType::f64);
    const TensorRef out = target < 0 ? own.ref() : refs[static_cast<std::size_t>(target)];
    std::vector<BoundKernel> calls;
    bind_kernel(OpKind::add_n, refs, out, attrs, calls);
    REQUIRE(calls.size() == 1);
    REQUIRE(calls[0].call.n_in() == 9);
    for (std::size_t k = 0; k < 9; ++k) CHECK(calls[0].call.in[k].data == refs[k].data);
    calls[0].run();
    check_close(target < 0 ? own : copies[static_cast<std::size_t>(target)], want, 1e-12);
  }
  std::vector<TensorRef> refs;
  for (Tensor& t : xs) refs.push_back(t.ref());
  Tensor out(s, DType::f64);
  std::vector<BoundKernel> calls;
  CHECK_THROWS_WITH(bind_kernel(OpKind::add, std::span(refs).first(3), out.ref(), attrs, calls),
                    Catch::Contains("add") && Catch::Contains("expects 2") && Catch::Contains("found 3"));
  CHECK_THROWS_AS(bind_kernel(OpKind::add_n, {}, out.ref(), attrs, calls), Error);
}

TEST_CASE("allreduce_start packs any number of gradients one after the other", "[runtime][kernels][allreduce]") {
  std::mt19937 rng(17);
  for (int count : {2, 5, 9}) {
    INFO(count << " gradients");
    std::vector<Tensor> grads;
    std::vector<double> want;
    for (int k = 0; k < count; ++k) {
      grads.push_back(random_tensor(Shape{k + 1, 3}, DType::f32, rng));
      for (double v : grads.back().values()) want.push_back(v);
    }
    // Without a communicator the kernels act as a world of one rank.
    Tensor packed = run_op(OpKind::allreduce_start, grads);
    CHECK(packed.shape() == Shape{static_cast<std::int64_t>(want.size())});
    check_close(packed, want, 0.0);
  }
}

TEST_CASE("expand broadcasts back over the reduced axis or from a scalar", "[runtime][kernels]") {
  std::mt19937 rng(13);
  const std::pair<Shape, std::optional<int>> cases[] = {
      {Shape{4, 3}, 0}, {Shape{4, 3}, 1}, {Shape{4, 3}, -1}, {Shape{2, 3, 5}, 1},
      {Shape{2, 3, 5}, std::nullopt}, {Shape{1, 4}, 0}, {Shape{6}, 0}, {Shape{}, std::nullopt},
  };
  for (DType dt : kFloatTypes)
    for (const auto& [shape, ax] : cases) {
      INFO(dtype_name(dt) << " to " << shape.str() << " axis " << (ax ? std::to_string(*ax) : "all"));
      std::vector<std::int64_t> reduced;
      if (ax) {
        reduced = shape.dims();
        reduced.erase(reduced.begin() + (*ax < 0 ? *ax + static_cast<int>(shape.rank()) : *ax));
      }
      Tensor dy = random_tensor(Shape(reduced), dt, rng);
      Tensor y = run_op(OpKind::expand, {dy}, axis(ax), shape);
      REQUIRE(y.shape() == shape);
      std::vector<double> want(y.numel());
      if (!ax) {
        for (double& v : want) v = dy.get(0);
      } else {
        Lanes l = lanes(shape, ax);
        for (std::size_t o = 0; o < l.outer; ++o)
          for (std::size_t k = 0; k < l.n; ++k)
            for (std::size_t i = 0; i < l.inner; ++i) want[l.at(o, k, i)] = dy.get(o * l.inner + i);
      }
      check_close(y, want);
    }
}

TEST_CASE("relu_grad passes dy where relu's output is positive", "[runtime][kernels]") {
  std::mt19937 rng(14);
  for (DType dt : kFloatTypes) {
    Tensor dy = random_tensor(Shape{5, 4}, dt, rng);
    Tensor y = run_op(OpKind::relu, {random_tensor(Shape{5, 4}, dt, rng)});
    y.set(0, 0.0);  // exactly at the kink: no gradient
    std::vector<double> want;
    for (std::size_t i = 0; i < y.numel(); ++i) want.push_back(y.get(i) > 0 ? dy.get(i) : 0.0);
    check_close(run_op(OpKind::relu_grad, {dy, y}), want);
  }
}

TEST_CASE("softmax_grad and log_softmax_grad are the vector-Jacobian products", "[runtime][kernels]") {
  std::mt19937 rng(15);
  const std::pair<Shape, std::optional<int>> cases[] = {
      {Shape{3, 5}, std::nullopt}, {Shape{3, 5}, 0}, {Shape{2, 3, 4}, 1}, {Shape{6}, std::nullopt}, {Shape{4, 1}, 1},
  };
  for (DType dt : kFloatTypes)
    for (const auto& [shape, ax] : cases) {
      INFO(dtype_name(dt) << " " << shape.str() << " axis " << (ax ? std::to_string(*ax) : "last"));
      Tensor x = random_tensor(shape, dt, rng);
      Tensor dy = random_tensor(shape, dt, rng);
      Tensor s = run_op(OpKind::softmax, {x}, axis(ax));
      Tensor ls = run_op(OpKind::log_softmax, {x}, axis(ax));
      // Jacobians along each lane: ∂s_i/∂x_j = s_i(δij − s_j), ∂ls_i/∂x_j = δij − s_j.
      Lanes l = lanes(shape, ax);
      std::vector<double> want_s(x.numel(), 0.0), want_ls(x.numel(), 0.0);
      for (std::size_t o = 0; o < l.outer; ++o)
        for (std::size_t i = 0; i < l.inner; ++i)
          for (std::size_t j = 0; j < l.n; ++j)
            for (std::size_t k = 0; k < l.n; ++k) {
              double sk = s.get(l.at(o, k, i)), sj = s.get(l.at(o, j, i)), dyk = dy.get(l.at(o, k, i));
              double delta = j == k ? 1.0 : 0.0;
              want_s[l.at(o, j, i)] += dyk * sk * (delta - sj);
              want_ls[l.at(o, j, i)] += dyk * (delta - std::exp(ls.get(l.at(o, j, i))));
            }
      check_close(run_op(OpKind::softmax_grad, {dy, s}, axis(ax)), want_s, 4 * tolerance(dt));
      check_close(run_op(OpKind::log_softmax_grad, {dy, ls}, axis(ax)), want_ls, 4 * tolerance(dt));
    }
}

TEST_CASE("cross_entropy_grad is −t/(p·N)·dloss and matches finite differences", "[runtime][kernels]") {
  std::mt19937 rng(16);
  for (DType dt : kFloatTypes) {
    Tensor p = run_op(OpKind::softmax, {random_tensor(Shape{4, 3}, dt, rng)});
    Tensor ids = class_ids({2, 0, 1, 2});
    Tensor onehot = Tensor::from_values(Shape{4, 3}, dt, {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1});
    for (const Tensor* t : {&ids, &onehot}) {
      INFO(dtype_name(dt) << " targets " << t->type_str());
      std::vector<double> want(12, 0.0);
      for (std::size_t i = 0; i < 12; ++i) want[i] = -onehot.get(i) / (p.get(i) * 4.0) * 0.7;
      check_close(run_op(OpKind::cross_entropy_grad, {p, *t, scalar(0.7, dt)}, {}, std::nullopt, 3), want);
    }
  }
  // In f64 against the loss kernel itself, soft targets included.
  Tensor p = run_op(OpKind::softmax, {random_tensor(Shape{3, 4}, DType::f64, rng)});
  Tensor soft = Tensor::from_values(Shape{3, 4}, DType::f64, {0.5, 0.5, 0, 0, 0, 0.2, 0.3, 0.5, 1, 0, 0, 0});
  check_close(run_op(OpKind::cross_entropy_grad, {p, soft, scalar(1.0, DType::f64)}),
              numeric_gradient(OpKind::cross_entropy, p, soft, 0), 1e-6);
}

TEST_CASE("softmax_cross_entropy_grad is (softmax(z) − t)/N·dloss, finite at ±1000", "[runtime][kernels]") {
  std::mt19937 rng(17);
  for (DType dt : kFloatTypes) {
    Tensor z = random_tensor(Shape{5, 4}, dt, rng, -3, 3);
    std::vector<double> s = vals(run_op(OpKind::softmax, {z}));
    Tensor ids = class_ids({3, 0, 0, 2, 1});
    std::vector<double> want(20);
    for (std::size_t i = 0; i < 20; ++i) {
      double hot = static_cast<double>(i % 4) == ids.get(i / 4) ? 1.0 : 0.0;
      want[i] = (s[i] - hot) / 5.0 * -1.5;
    }
    check_close(run_op(OpKind::softmax_cross_entropy_grad, {z, ids, scalar(-1.5, dt)}, {}, std::nullopt, 4), want);

    Tensor big = Tensor::from_values(Shape{2, 3}, dt, {1000, -1000, 0, 1000, 1000, -1000});
    Tensor g = run_op(OpKind::softmax_cross_entropy_grad, {big, class_ids({1, 0}), scalar(1.0, dt)}, {},
                      std::nullopt, 3);
    check_close(g, {0.5, -0.5, 0, -0.25, 0.25, 0});
  }
  Tensor z = random_tensor(Shape{3, 4}, DType::f64, rng);
  Tensor soft = Tensor::from_values(Shape{3, 4}, DType::f64, {0.5, 0.5, 0, 0, 0, 0.2, 0.3, 0.5, 1, 0, 0, 0});
  check_close(run_op(OpKind::softmax_cross_entropy_grad, {z, soft, scalar(1.0, DType::f64)}),
              numeric_gradient(OpKind::softmax_cross_entropy, z, soft, 0), 1e-6);
  Tensor ids = class_ids({1, 3, 0});
  check_close(run_op(OpKind::softmax_cross_entropy_grad, {z, ids, scalar(1.0, DType::f64)}, {}, std::nullopt, 4),
              numeric_gradient(OpKind::softmax_cross_entropy, z, ids, 4), 1e-6);
}

TEST_CASE("every op has a kernel", "[runtime][kernels]") {
  for (std::size_t i = 0; i < kOpCount; ++i) {
    INFO(op_name(static_cast<OpKind>(i)));
    CHECK(kernel_for(static_cast<OpKind>(i)) != nullptr);
  }
}

TEST_CASE("kernels that allow in-place reuse give the same result in place", "[runtime][kernels]") {
  std::mt19937 rng(18);
  struct Case {
    OpKind op;
    std::vector<Tensor> in;
    Attrs attrs;
  };
  auto r = [&](Shape s) { return random_tensor(s, DType::f64, rng, 0.1, 2.0); };
  Attrs ax0 = axis(0);
  Attrs scaled;
  scaled.factor = 3.0;
  std::vector<Case> cases = {
      {OpKind::add, {r({3, 4}), r({3, 4})}, {}},        {OpKind::add, {r({3, 4}), r({4})}, {}},
      {OpKind::sub, {r({3, 4}), r({3, 4})}, {}},        {OpKind::mul, {r({3, 4}), r({})}, {}},
      {OpKind::div, {r({3, 4}), r({3, 4})}, {}},        {OpKind::neg, {r({3, 4})}, {}},
      {OpKind::scale, {r({3, 4})}, scaled},             {OpKind::relu, {r({3, 4})}, {}},
      {OpKind::sigmoid, {r({3, 4})}, {}},               {OpKind::tanh, {r({3, 4})}, {}},
      {OpKind::exp, {r({3, 4})}, {}},                   {OpKind::log, {r({3, 4})}, {}},
      {OpKind::square, {r({3, 4})}, {}},                {OpKind::softmax, {r({3, 4})}, ax0},
      {OpKind::log_softmax, {r({2, 3, 4})}, {}},        {OpKind::add_n, {r({5}), r({5}), r({5}), r({5}), r({5}), r({5})}, {}},
      {OpKind::relu_grad, {r({3, 4}), r({3, 4})}, {}},  {OpKind::softmax_grad, {r({3, 4}), r({3, 4})}, ax0},
      {OpKind::log_softmax_grad, {r({3, 4}), r({3, 4})}, {}},
      {OpKind::cross_entropy_grad, {r({3, 4}), r({3, 4}), r({})}, {}},
      {OpKind::softmax_cross_entropy_grad, {r({3, 4}), r({3, 4}), r({})}, {}},
  };
  for (Case& c : cases) {
    Tensor expected = run_op(c.op, c.in, c.attrs);
    for (int k = 0; k < static_cast<int>(c.in.size()); ++k) {
      if (!op_may_overwrite_operand(c.op, k) || c.in[k].shape() != expected.shape()) continue;
      INFO(op_name(c.op) << " writing over operand " << k);
      std::vector<Tensor> copies = c.in;
      std::vector<TensorRef> refs;
      for (Tensor& t : copies) refs.push_back(t.ref());
      std::vector<BoundKernel> calls;
      bind_kernel(c.op, refs, copies[k].ref(), c.attrs, calls);
      for (const auto& call : calls) call.run();
      check_close(copies[k], vals(expected));
    }
  }
  CHECK_FALSE(op_may_overwrite_operand(OpKind::matmul, 0));
  CHECK_FALSE(op_may_overwrite_operand(OpKind::softmax_cross_entropy_grad, 1));
}
