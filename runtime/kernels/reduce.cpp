// Reductions: over one axis (the tensor seen as [outer, n, inner]) or over
// everything into a scalar.
#include <type_traits>

#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"
#include "runtime/kernels/vector_math.hpp"

namespace kiln::kernels {
namespace {

using detail::Accumulator;
using detail::for_float;
using detail::input;
using detail::numel;
using detail::output;

// y = divisor⁻¹ · Σ over the axis (or everything). Full reductions and rows
// accumulate in double; reductions over a leading axis add whole contiguous
// rows into the output, which vectorises.
template <class T>
void reduce_sum(const KernelCall& c, bool average) {
  const T* __restrict__ x = input<T>(c, 0);
  T* __restrict__ y = output<T>(c);
  if (!c.attrs->axis) {
    std::size_t n = numel(c.in[0].shape);
    Accumulator s = 0;
    for (std::size_t i = 0; i < n; ++i) s += x[i];
    y[0] = static_cast<T>(average ? s / static_cast<Accumulator>(n) : s);
    return;
  }
  detail::AxisView v = detail::view_around(*c.in[0].shape, *c.attrs->axis);
  const T inv_n = average ? T(1) / static_cast<T>(v.n) : T(1);
  if (v.inner == 1) {
    for (std::size_t o = 0; o < v.outer; ++o) {
      const T* xr = x + o * v.n;
      Accumulator s = 0;
      for (std::size_t k = 0; k < v.n; ++k) s += xr[k];
      y[o] = static_cast<T>(average ? s / static_cast<Accumulator>(v.n) : s);
    }
    return;
  }
  // Column sums (a bias gradient). f32: detail::column_sum. f64 (tests):
  // kChunk columns at a time accumulate in a local array the compiler keeps
  // in registers, so no row waits on the store of the previous one (and no
  // store can 4K-alias the next rows' loads, which made the naive loop 5x
  // slower inside a plan's arena).
  constexpr std::size_t kChunk = 32;
  for (std::size_t o = 0; o < v.outer; ++o) {
    T* yo = y + o * v.inner;
    const T* xo = x + o * v.n * v.inner;
    if constexpr (std::is_same_v<T, float>) {
      detail::column_sum(xo, v.n, v.inner, yo);
      if (average)
        for (std::size_t i = 0; i < v.inner; ++i) yo[i] *= inv_n;
      continue;
    }
    std::size_t i0 = 0;
    for (; i0 + kChunk <= v.inner; i0 += kChunk) {
      T acc[kChunk];
      for (std::size_t i = 0; i < kChunk; ++i) acc[i] = xo[i0 + i];
      for (std::size_t k = 1; k < v.n; ++k) {
        const T* xk = xo + k * v.inner + i0;
        for (std::size_t i = 0; i < kChunk; ++i) acc[i] += xk[i];
      }
      for (std::size_t i = 0; i < kChunk; ++i) yo[i0 + i] = acc[i];
    }
    if (i0 < v.inner) {
      for (std::size_t i = i0; i < v.inner; ++i) yo[i] = xo[i];
      for (std::size_t k = 1; k < v.n; ++k) {
        const T* xk = xo + k * v.inner;
        for (std::size_t i = i0; i < v.inner; ++i) yo[i] += xk[i];
      }
    }
    if (average)
      for (std::size_t i = 0; i < v.inner; ++i) yo[i] *= inv_n;
  }
}

}  // namespace

void sum(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) { reduce_sum<decltype(tag)>(c, false); });
}

void mean(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) { reduce_sum<decltype(tag)>(c, true); });
}

void l2(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = input<T>(c, 0);
    std::size_t n = numel(c.in[0].shape);
    Accumulator s = 0;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<Accumulator>(x[i]) * x[i];
    output<T>(c)[0] = static_cast<T>(0.5 * s);
  });
}

}  // namespace kiln::kernels
