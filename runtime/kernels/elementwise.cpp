// Elementwise kernels. No restrict qualifiers: the output may be exactly an
// operand's buffer (in-place reuse by the memory planner), and the compiler
// vectorises these loops with a runtime overlap check instead.
#include <cmath>

#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"

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

template <class Op>
void unary(const KernelCall& c, Op op) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = input<T>(c, 0);
    T* y = output<T>(c);
    std::size_t n = numel(c.out_shape);
    for (std::size_t i = 0; i < n; ++i) y[i] = op(x[i]);
  });
}

// 1 / (1 + e^-x) computed from e^-|x|, which never overflows: exact 0 and 1
// in the limits instead of inf / inf.
template <class T>
inline T stable_sigmoid(T x) {
  T e = std::exp(-std::abs(x));
  T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

}  // namespace

void add(const KernelCall& c) { binary(c, [](auto a, auto b) { return a + b; }); }
void sub(const KernelCall& c) { binary(c, [](auto a, auto b) { return a - b; }); }
void mul(const KernelCall& c) { binary(c, [](auto a, auto b) { return a * b; }); }
// The shape rule allows only an equal shape or a scalar divisor; binary()
// handles both.
void div(const KernelCall& c) { binary(c, [](auto a, auto b) { return a / b; }); }

void neg(const KernelCall& c) { unary(c, [](auto x) { return -x; }); }

void scale(const KernelCall& c) {
  const double factor = c.attrs->factor;
  unary(c, [factor](auto x) { return static_cast<decltype(x)>(factor) * x; });
}

// x < 0 ? 0 : x keeps a NaN visible instead of turning it into 0.
void relu(const KernelCall& c) {
  unary(c, [](auto x) { return x < decltype(x)(0) ? decltype(x)(0) : x; });
}

void sigmoid(const KernelCall& c) { unary(c, [](auto x) { return stable_sigmoid(x); }); }
void tanh(const KernelCall& c) { unary(c, [](auto x) { return std::tanh(x); }); }
void exp(const KernelCall& c) { unary(c, [](auto x) { return std::exp(x); }); }
void log(const KernelCall& c) { unary(c, [](auto x) { return std::log(x); }); }
void square(const KernelCall& c) { unary(c, [](auto x) { return x * x; }); }

}  // namespace kiln::kernels
