// Kernel binding (add_n of any arity, operand-count errors), the kernel table,
// and backward kernels at shapes and values the op table (tests/ops) does not
// draw.
#include "runtime/kernels.hpp"
#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

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


TEST_CASE("softmax_cross_entropy_grad is finite and exact for logits of ±1000", "[runtime][kernels]") {
  for (DType dt : kFloatTypes) {
    INFO(dtype_name(dt));
    Tensor big = Tensor::from_values(Shape{2, 3}, dt, {1000, -1000, 0, 1000, 1000, -1000});
    Tensor g = run_op(OpKind::softmax_cross_entropy_grad, {big, class_ids({1, 0}), scalar(1.0, dt)}, {},
                      std::nullopt, 3);
    check_close(g, {0.5, -0.5, 0, -0.25, 0.25, 0});
  }
}

TEST_CASE("every op has a kernel", "[runtime][kernels]") {
  for (std::size_t i = 0; i < kOpCount; ++i) {
    INFO(op_name(static_cast<OpKind>(i)));
    CHECK(kernel_for(static_cast<OpKind>(i)) != nullptr);
  }
}
