// Elementwise kernels. No restrict qualifiers: the output may be exactly an
// operand's buffer (in-place reuse by the memory planner), and the compiler
// vectorises these loops with a runtime overlap check instead.
#include <cmath>

#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"
#include "runtime/kernels/pointwise.hpp"

namespace kiln::kernels {
namespace {

using detail::for_float;
using detail::input;
using detail::numel;
using detail::output;

// y = op(a, b) where b has a's shape, is a scalar, or is a trailing part of
// a's shape repeated over the leading "rows" (a bias).
template <class Op>
void binary(const KernelCall& c, Op op) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* a = input<T>(c, 0);
    const T* b = input<T>(c, 1);
    T* y = output<T>(c);
    std::size_t na = numel(c.in[0].shape), nb = numel(c.in[1].shape);
    if (nb == 1) {
      const T s = b[0];
      for (std::size_t i = 0; i < na; ++i) y[i] = op(a[i], s);
      return;
    }
    for (std::size_t row = 0; row < na; row += nb) {
      const T* ar = a + row;
      T* yr = y + row;
      for (std::size_t j = 0; j < nb; ++j) yr[j] = op(ar[j], b[j]);
    }
  });
}

}  // namespace

void add(const KernelCall& c) { binary(c, [](auto a, auto b) { return a + b; }); }
void sub(const KernelCall& c) { binary(c, [](auto a, auto b) { return a - b; }); }
void mul(const KernelCall& c) { binary(c, [](auto a, auto b) { return a * b; }); }
// The shape rule allows only an equal shape or a scalar divisor; binary()
// handles both.
void div(const KernelCall& c) { binary(c, [](auto a, auto b) { return a / b; }); }

void scale(const KernelCall& c) {
  const double factor = c.attrs->factor;
  pointwise_loop(c, [factor](auto x) { return static_cast<decltype(x)>(factor) * x; });
}

}  // namespace kiln::kernels
