// Softmax family and classification losses. Every exponential is taken of
// x − max(x), so logits of any size give finite, exact results; the softmax
// ops work lane by lane in the output buffer; the f32 loss works in the
// call's planned scratch (runtime/kernels/scratch.hpp).
// Targets are i32 class ids [N] or rows [N, C] in the float dtype (one-hot or
// soft); a zero target contributes exactly 0 (0·log 0 = 0).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"
#include "runtime/kernels/scratch.hpp"
#include "runtime/kernels/vector_math.hpp"

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

bool has_class_ids(const KernelCall& c) { return c.in[1].dtype == DType::i32; }

// f32 rows of logits go through a block of the call's scratch about this
// many floats long (one row when rows are wider): their max-shifted values
// are exponentiated in one contiguous, vectorised loop (rows are often 10
// wide: a loop per row would barely vectorise). Planned scratch rather than
// a stack array, so rows of any width take this path: wider than a fixed
// block, they used to fall back on a scalar loop in double.
constexpr std::size_t kBlockFloats = 2048;
constexpr std::size_t kBlockRows = 256;

// Where the block and the per-row shifts and log-sums lie in the scratch,
// in floats, each part 64-byte aligned.
struct SoftmaxCrossEntropyScratch {
  std::size_t rows_per_block = 0, shift_at = 0, log_sum_at = 0, floats = 0;
};

SoftmaxCrossEntropyScratch softmax_cross_entropy_scratch(std::size_t rows, std::size_t cols) {
  constexpr std::size_t kLineFloats = 64 / sizeof(float);
  auto whole_lines = [](std::size_t floats) { return (floats + kLineFloats - 1) / kLineFloats * kLineFloats; };
  SoftmaxCrossEntropyScratch s;
  s.rows_per_block =
      std::min({rows, kBlockRows, std::max<std::size_t>(1, kBlockFloats / std::max<std::size_t>(cols, 1))});
  s.shift_at = whole_lines(s.rows_per_block * cols);
  s.log_sum_at = s.shift_at + whole_lines(s.rows_per_block);
  s.floats = s.log_sum_at + whole_lines(s.rows_per_block);
  return s;
}

// Σ over the rows of softmax_cross_entropy's per-row loss, f32 logits: per
// block of rows, the shifted logits exponentiated
// (detail::softmax_numerators), the row sums and their logs, each a
// vectorised pass.
Accumulator softmax_cross_entropy_rows_f32(const KernelCall& c, std::size_t rows, std::size_t cols) {
  const float* z = input<float>(c, 0);
  const SoftmaxCrossEntropyScratch layout = softmax_cross_entropy_scratch(rows, cols);
  float* const scratch = static_cast<float*>(c.scratch);
  float* const block = scratch;
  float* const shift_of = scratch + layout.shift_at;
  float* const log_sum = scratch + layout.log_sum_at;
  const std::size_t rows_per_block = layout.rows_per_block;
  Accumulator total = 0;
  for (std::size_t r0 = 0; r0 < rows; r0 += rows_per_block) {
    const std::size_t n = std::min(rows_per_block, rows - r0);
    const float* zb = z + r0 * cols;
    detail::softmax_numerators(zb, n, cols, block, shift_of);
    detail::row_sum(block, n, cols, log_sum);
    detail::log_in_place(log_sum, n);
    for (std::size_t r = 0; r < n; ++r) {
      const float* zr = zb + r * cols;
      const Accumulator lse = static_cast<Accumulator>(shift_of[r]) + log_sum[r];
      if (has_class_ids(c)) {
        total += lse - zr[input<std::int32_t>(c, 1)[r0 + r]];
      } else {
        const float* tr = input<float>(c, 1) + (r0 + r) * cols;
        for (std::size_t j = 0; j < cols; ++j)
          if (tr[j] != 0.0f) total += tr[j] * (lse - zr[j]);
      }
    }
  }
  return total;
}

}  // namespace

std::size_t softmax_cross_entropy_scratch_bytes(const Shape& logits, DType dtype) {
  if (dtype != DType::f32 || logits.rank() != 2) return 0;
  const auto rows = static_cast<std::size_t>(logits[0]), cols = static_cast<std::size_t>(logits[1]);
  return softmax_cross_entropy_scratch(rows, cols).floats * sizeof(float);
}

void softmax(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = input<T>(c, 0);
    T* y = output<T>(c);
    detail::AxisView v = detail::softmax_view(c, *c.out_shape);
    if constexpr (std::is_same_v<T, float>) {
      if (v.inner == 1) {  // contiguous rows: shift all, exponentiate all at once, normalise
        for (std::size_t o = 0; o < v.outer; ++o) {
          const float m = lane_max(x + o * v.n, v.n, std::integral_constant<std::size_t, 1>{});
          for (std::size_t k = 0; k < v.n; ++k) y[o * v.n + k] = x[o * v.n + k] - m;
        }
        detail::exp_in_place(y, v.outer * v.n);
        for (std::size_t o = 0; o < v.outer; ++o) {
          float total = 0;
          for (std::size_t k = 0; k < v.n; ++k) total += y[o * v.n + k];
          const float inv = 1.0f / total;
          for (std::size_t k = 0; k < v.n; ++k) y[o * v.n + k] *= inv;
        }
        return;
      }
    }
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
    const std::size_t rows = static_cast<std::size_t>((*c.in[0].shape)[0]);
    const std::size_t cols = static_cast<std::size_t>((*c.in[0].shape)[1]);
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
    const std::size_t rows = static_cast<std::size_t>((*c.in[0].shape)[0]);
    const std::size_t cols = static_cast<std::size_t>((*c.in[0].shape)[1]);
    if constexpr (std::is_same_v<T, float>) {
      output<T>(c)[0] = static_cast<T>(softmax_cross_entropy_rows_f32(c, rows, cols) / static_cast<Accumulator>(rows));
      return;
    }
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

// softmax_cross_entropy and, into extra_out[0], its gradient for an incoming
// gradient of 1: dz = (softmax(z) − t)/rows, the arithmetic of
// softmax_cross_entropy_grad. Each row's exponentials are taken once, into
// dz, and serve both: the row sum gives the log-sum-exp for the loss and the
// normaliser for the gradient. Without a gradient buffer (no one reads it)
// this is softmax_cross_entropy.
void softmax_cross_entropy_with_grad(const KernelCall& c) {
  if (!c.extra_out[0].data) {
    softmax_cross_entropy(c);
    return;
  }
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* z = input<T>(c, 0);
    T* dz = static_cast<T*>(c.extra_out[0].data);
    const std::size_t rows = static_cast<std::size_t>((*c.in[0].shape)[0]);
    const std::size_t cols = static_cast<std::size_t>((*c.in[0].shape)[1]);
    const T factor = T(1) / static_cast<T>(rows);
    Accumulator total = 0;
    // Row r's loss from its log-sum-exp, then its gradient row: already
    // scaled exponentials, minus factor · target.
    auto finish_row = [&](std::size_t r, Accumulator lse, T* dr) {
      const T* zr = z + r * cols;
      if (has_class_ids(c)) {
        const std::int32_t label = input<std::int32_t>(c, 1)[r];
        total += lse - zr[label];
        dr[label] -= factor;
      } else {
        const T* tr = input<T>(c, 1) + r * cols;
        for (std::size_t j = 0; j < cols; ++j) {
          if (tr[j] != T(0)) total += tr[j] * (lse - zr[j]);
          dr[j] -= factor * tr[j];
        }
      }
    };
    if constexpr (std::is_same_v<T, float>) {
      alignas(64) float shift[kBlockRows];
      alignas(64) float sum[kBlockRows];
      alignas(64) float log_sum[kBlockRows];
      for (std::size_t r0 = 0; r0 < rows; r0 += kBlockRows) {
        const std::size_t n = std::min(kBlockRows, rows - r0);
        float* db = dz + r0 * cols;
        detail::softmax_numerators(z + r0 * cols, n, cols, db, shift);
        detail::row_sum(db, n, cols, sum);
        std::copy(sum, sum + n, log_sum);
        detail::log_in_place(log_sum, n);
        for (std::size_t r = 0; r < n; ++r) sum[r] = factor / sum[r];
        detail::scale_rows(db, n, cols, sum);
        for (std::size_t r = 0; r < n; ++r)
          finish_row(r0 + r, static_cast<Accumulator>(shift[r]) + log_sum[r], db + r * cols);
      }
    } else {
      for (std::size_t r = 0; r < rows; ++r) {
        const T* zr = z + r * cols;
        T* dr = dz + r * cols;
        const T m = lane_max(zr, cols, std::integral_constant<std::size_t, 1>{});
        T s = 0;
        for (std::size_t j = 0; j < cols; ++j) {
          dr[j] = std::exp(zr[j] - m);
          s += dr[j];
        }
        const T scale = factor / s;
        for (std::size_t j = 0; j < cols; ++j) dr[j] *= scale;
        finish_row(r, static_cast<Accumulator>(m) + std::log(static_cast<Accumulator>(s)), dr);
      }
    }
    output<T>(c)[0] = static_cast<T>(total / static_cast<Accumulator>(rows));
  });
}

}  // namespace kiln::kernels
