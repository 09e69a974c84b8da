// Softmax family and classification losses. Every exponential is taken of
// x − max(x), so logits of any size give finite, exact results; the softmax
// ops work lane by lane in the output buffer and need no scratch space.
// Targets are i32 class ids [N] or rows [N, C] in the float dtype (one-hot or
// soft); a zero target contributes exactly 0 (0·log 0 = 0).
#include <cmath>

#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"

namespace kiln::kernels {
namespace {

using detail::Accumulator;
using detail::for_float;
using detail::input;
using detail::output;

template <class T, class Stride>
inline T lane_max(const T* x, std::size_t n, Stride s) {
  T m = x[0];
  for (std::size_t k = 1; k < n; ++k) m = x[k * s] > m ? x[k * s] : m;
  return m;
}

bool has_class_ids(const KernelCall& c) { return c.in_dtype[1] == DType::i32; }

}  // namespace

void softmax(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = input<T>(c, 0);
    T* y = output<T>(c);
    detail::AxisView v = detail::softmax_view(c, *c.out_shape);
    detail::for_each_lane(v, [&](std::size_t off, auto s) {
      const T* xl = x + off;
      T* yl = y + off;
      const T m = lane_max(xl, v.n, s);
      T total = 0;
      for (std::size_t k = 0; k < v.n; ++k) {
        T e = std::exp(xl[k * s] - m);
        yl[k * s] = e;
        total += e;
      }
      const T inv = T(1) / total;
      for (std::size_t k = 0; k < v.n; ++k) yl[k * s] *= inv;
    });
  });
}

void log_softmax(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = input<T>(c, 0);
    T* y = output<T>(c);
    detail::AxisView v = detail::softmax_view(c, *c.out_shape);
    detail::for_each_lane(v, [&](std::size_t off, auto s) {
      const T* xl = x + off;
      T* yl = y + off;
      const T m = lane_max(xl, v.n, s);
      T total = 0;
      for (std::size_t k = 0; k < v.n; ++k) {
        T shifted = xl[k * s] - m;
        yl[k * s] = shifted;
        total += std::exp(shifted);
      }
      const T log_total = std::log(total);
      for (std::size_t k = 0; k < v.n; ++k) yl[k * s] -= log_total;
    });
  });
}

// mean over rows of −Σ t·log p (−log p[label] for class ids)
void cross_entropy(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = input<T>(c, 0);
    const std::size_t rows = static_cast<std::size_t>((*c.in_shape[0])[0]);
    const std::size_t cols = static_cast<std::size_t>((*c.in_shape[0])[1]);
    Accumulator total = 0;
    if (has_class_ids(c)) {
      const std::int32_t* label = input<std::int32_t>(c, 1);
      for (std::size_t r = 0; r < rows; ++r) total -= std::log(static_cast<Accumulator>(p[r * cols + label[r]]));
    } else {
      const T* t = input<T>(c, 1);
      for (std::size_t i = 0; i < rows * cols; ++i)
        if (t[i] != T(0)) total -= static_cast<Accumulator>(t[i]) * std::log(static_cast<Accumulator>(p[i]));
    }
    output<T>(c)[0] = static_cast<T>(total / static_cast<Accumulator>(rows));
  });
}

// mean over rows of Σ t·(logsumexp(z) − z), the log-sum-exp taken max-shifted
void softmax_cross_entropy(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* z = input<T>(c, 0);
    const std::size_t rows = static_cast<std::size_t>((*c.in_shape[0])[0]);
    const std::size_t cols = static_cast<std::size_t>((*c.in_shape[0])[1]);
    Accumulator total = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* zr = z + r * cols;
      const Accumulator m = lane_max(zr, cols, std::integral_constant<std::size_t, 1>{});
      Accumulator s = 0;
      for (std::size_t j = 0; j < cols; ++j) s += std::exp(zr[j] - m);
      const Accumulator lse = m + std::log(s);
      if (has_class_ids(c)) {
        total += lse - zr[input<std::int32_t>(c, 1)[r]];
      } else {
        const T* tr = input<T>(c, 1) + r * cols;
        for (std::size_t j = 0; j < cols; ++j)
          if (tr[j] != T(0)) total += tr[j] * (lse - zr[j]);
      }
    }
    output<T>(c)[0] = static_cast<T>(total / static_cast<Accumulator>(rows));
  });
}

}  // namespace kiln::kernels
