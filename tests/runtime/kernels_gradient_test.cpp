// Kernel binding (add_n chains, operand-count errors), the kernel table, and
// backward kernels at values the op table (tests/ops) does not draw.
#include "runtime/kernels.hpp"
#include "tests/runtime/harness.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

Tensor scalar(double v, DType dt) { return Tensor::from_values(Shape{}, dt, {v}); }

}  // namespace

TEST_CASE("bind_kernel splits a large add_n into calls of at most kMaxKernelInputs operands", "[runtime][kernels]") {
  Shape s{3};
  std::vector<Tensor> xs(9, Tensor(s, DType::f32));
  std::vector<TensorRef> refs;
  for (Tensor& t : xs) refs.push_back(t.ref());
  Tensor out(s, DType::f32);
  Attrs attrs;
  std::vector<BoundKernel> calls;
  bind_kernel(OpKind::add_n, refs, out.ref(), attrs, calls);
  // 4 operands, then the output plus 3 more, twice: 4 + 3 + 2.
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].call.n_in == 4);
  CHECK(calls[1].call.in[0] == out.raw());
  CHECK(calls[2].call.n_in == 3);
  for (const auto& c : calls) CHECK(c.call.n_in <= kMaxKernelInputs);
  CHECK_THROWS_WITH(bind_kernel(OpKind::add, std::span(refs).first(3), out.ref(), attrs, calls),
                    Catch::Contains("add") && Catch::Contains("expects 2") && Catch::Contains("found 3"));
  CHECK_THROWS_AS(bind_kernel(OpKind::add_n, {}, out.ref(), attrs, calls), Error);
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
