// Backward helpers emitted by autodiff. Those whose output is shaped like an
// operand may run in place on it (see passes/in_place.hpp), so they read
// each element of that operand before writing the same element.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"
#include "runtime/kernels/vector_math.hpp"

namespace kiln::kernels {
namespace {

using detail::for_float;
using detail::input;
using detail::numel;
using detail::output;

bool has_class_ids(const KernelCall& c) { return c.in[1].dtype == DType::i32; }

// Σ of operands ops[0, N) at element i0 + i, for i < len, handed to
// store(i, sum): N operands read in one vectorised pass.
template <std::size_t N, class T, class Store>
inline void sum_operands(const KernelOperand* ops, std::size_t i0, std::size_t len, Store store) {
  static_assert(N >= 1 && N <= 4);
  const T* a = static_cast<const T*>(ops[0].data) + i0;
  const T* b = N > 1 ? static_cast<const T*>(ops[1].data) + i0 : nullptr;
  const T* d = N > 2 ? static_cast<const T*>(ops[2].data) + i0 : nullptr;
  const T* e = N > 3 ? static_cast<const T*>(ops[3].data) + i0 : nullptr;
  for (std::size_t i = 0; i < len; ++i) {
    T s = a[i];
    if constexpr (N > 1) s += b[i];
    if constexpr (N > 2) s += d[i];
    if constexpr (N > 3) s += e[i];
    store(i, s);
  }
}

// What a group of operands does with its sum: start or grow the tile
// accumulator (a stack array, distinct from every operand, so __restrict__
// lets the loop vectorise without alias checks), or add to it into the
// output (y may be one of the operands: each element is read before it is
// written).
enum class Into { start_tile, tile, output_from_tile };

template <Into into, std::size_t N, class T>
inline void add_group_of(T* y, T* __restrict__ acc, const KernelOperand* ops, std::size_t i0, std::size_t len) {
  if constexpr (into == Into::start_tile)
    sum_operands<N, T>(ops, i0, len, [=](std::size_t i, T s) { acc[i] = s; });
  else if constexpr (into == Into::tile)
    sum_operands<N, T>(ops, i0, len, [=](std::size_t i, T s) { acc[i] += s; });
  else
    sum_operands<N, T>(ops, i0, len, [=](std::size_t i, T s) { y[i] = acc[i] + s; });
}

template <Into into, class T>
void add_group(std::size_t count, T* y, T* acc, const KernelOperand* ops, std::size_t i0, std::size_t len) {
  switch (count) {
    case 1: return add_group_of<into, 1>(y, acc, ops, i0, len);
    case 2: return add_group_of<into, 2>(y, acc, ops, i0, len);
    case 3: return add_group_of<into, 3>(y, acc, ops, i0, len);
    default: return add_group_of<into, 4>(y, acc, ops, i0, len);
  }
}

// y = Σ of at most 4 operands: one unrolled pass (y may be any of them:
// each element is read before it is written).
template <class T>
void add_few(const KernelCall& c, T* y, std::size_t n) {
  const T* a = input<T>(c, 0);
  switch (c.in.size()) {
    case 1:
      for (std::size_t i = 0; i < n; ++i) y[i] = a[i];
      break;
    case 2: {
      const T* b = input<T>(c, 1);
      for (std::size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
      break;
    }
    case 3: {
      const T *b = input<T>(c, 1), *d = input<T>(c, 2);
      for (std::size_t i = 0; i < n; ++i) y[i] = a[i] + b[i] + d[i];
      break;
    }
    default: {
      const T *b = input<T>(c, 1), *d = input<T>(c, 2), *e = input<T>(c, 3);
      for (std::size_t i = 0; i < n; ++i) y[i] = a[i] + b[i] + d[i] + e[i];
      break;
    }
  }
}

// y = Σ of more than 4 operands: per tile of y, groups of 4 operands
// accumulate into a stack tile that stays in L1, and the last group writes
// y, each element after every operand's was read (so y may be any of them).
template <class T>
void add_many(const KernelCall& c, T* y, std::size_t n) {
  constexpr std::size_t kGroup = 4;
  constexpr std::size_t kTile = 512;
  const std::size_t m = c.in.size();
  const KernelOperand* ops = c.in.data();
  alignas(64) T acc[kTile];
  for (std::size_t i0 = 0; i0 < n; i0 += kTile) {
    const std::size_t len = std::min(kTile, n - i0);
    add_group<Into::start_tile, T>(kGroup, y, acc, ops, i0, len);
    std::size_t k = kGroup;
    for (; m - k > kGroup; k += kGroup) add_group<Into::tile, T>(kGroup, y, acc, ops + k, i0, len);
    add_group<Into::output_from_tile, T>(m - k, y + i0, acc, ops + k, i0, len);
  }
}

}  // namespace

// y = Σ inputs, any number of them, in one call, so a gradient reaching a
// node through many consumers is summed in one pass over y rather than a
// chain of calls re-reading it.
void add_n(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const std::size_t n = numel(c.out_shape);
    if (c.in.size() <= 4) add_few<T>(c, output<T>(c), n);
    else add_many<T>(c, output<T>(c), n);
  });
}

// Broadcasts dy back over the reduced axis (or from a scalar over
// everything): the vector-Jacobian product of sum.
void expand(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* __restrict__ dy = input<T>(c, 0);
    T* __restrict__ y = output<T>(c);
    if (!c.attrs->axis) {
      const T v = dy[0];
      const std::size_t n = numel(c.out_shape);
      for (std::size_t i = 0; i < n; ++i) y[i] = v;
      return;
    }
    detail::AxisView v = detail::view_around(*c.out_shape, *c.attrs->axis);
    for (std::size_t o = 0; o < v.outer; ++o) {
      const T* src = dy + o * v.inner;
      for (std::size_t k = 0; k < v.n; ++k) {
        T* dst = y + (o * v.n + k) * v.inner;
        for (std::size_t i = 0; i < v.inner; ++i) dst[i] = src[i];
      }
    }
  });
}

// dx = dy where relu's output y > 0, else 0
void relu_grad(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* dy = input<T>(c, 0);
    const T* y = input<T>(c, 1);
    T* dx = output<T>(c);
    const std::size_t n = numel(c.out_shape);
    if constexpr (std::is_same_v<T, float>) {
      detail::relu_backward(dy, y, dx, n);
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const T g = dy[i];
      dx[i] = y[i] > T(0) ? g : T(0);
    }
  });
}

// dx = s·(dy − Σ dy·s) along the axis, s being softmax's output
void softmax_grad(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* dy = input<T>(c, 0);
    const T* s = input<T>(c, 1);
    T* dx = output<T>(c);
    detail::AxisView v = detail::softmax_view(c, *c.out_shape);
    detail::for_each_lane(v, [&](std::size_t off, auto st) {
      T inner = 0;
      for (std::size_t k = 0; k < v.n; ++k) inner += dy[off + k * st] * s[off + k * st];
      for (std::size_t k = 0; k < v.n; ++k) {
        const std::size_t i = off + k * st;
        dx[i] = s[i] * (dy[i] - inner);
      }
    });
  });
}

// dx = dy − exp(ls)·Σ dy along the axis, ls being log_softmax's output
void log_softmax_grad(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* dy = input<T>(c, 0);
    const T* ls = input<T>(c, 1);
    T* dx = output<T>(c);
    detail::AxisView v = detail::softmax_view(c, *c.out_shape);
    detail::for_each_lane(v, [&](std::size_t off, auto st) {
      T total = 0;
      for (std::size_t k = 0; k < v.n; ++k) total += dy[off + k * st];
      for (std::size_t k = 0; k < v.n; ++k) {
        const std::size_t i = off + k * st;
        dx[i] = dy[i] - std::exp(ls[i]) * total;
      }
    });
  });
}

// dp = −t / (p·N) · dloss, class ids read as one-hot rows
void cross_entropy_grad(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = input<T>(c, 0);
    T* dp = output<T>(c);
    const std::size_t rows = static_cast<std::size_t>((*c.in[0].shape)[0]);
    const std::size_t cols = static_cast<std::size_t>((*c.in[0].shape)[1]);
    const T factor = -input<T>(c, 2)[0] / static_cast<T>(rows);
    if (has_class_ids(c)) {
      const std::int32_t* label = input<std::int32_t>(c, 1);
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t hot = r * cols + static_cast<std::size_t>(label[r]);
        const T g = factor / p[hot];  // read before the row is cleared: dp may be p
        for (std::size_t j = 0; j < cols; ++j) dp[r * cols + j] = T(0);
        dp[hot] = g;
      }
      return;
    }
    const T* t = input<T>(c, 1);
    for (std::size_t i = 0; i < rows * cols; ++i) dp[i] = t[i] != T(0) ? factor * t[i] / p[i] : T(0);
  });
}

// dz = (softmax(z) − t) / N · dloss, built in the output
void softmax_cross_entropy_grad(const KernelCall& c) {
  for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* z = input<T>(c, 0);
    T* dz = output<T>(c);
    const std::size_t rows = static_cast<std::size_t>((*c.in[0].shape)[0]);
    const std::size_t cols = static_cast<std::size_t>((*c.in[0].shape)[1]);
    const T factor = input<T>(c, 2)[0] / static_cast<T>(rows);
    if constexpr (std::is_same_v<T, float>) {
      // Per block of rows: the shifted logits exponentiated in vectorised
      // passes (detail::softmax_numerators), each row scaled by factor / its
      // sum, the target subtracted. dz may be z's own buffer.
      constexpr std::size_t kBlockRows = 256;
      alignas(64) float per_row[kBlockRows];
      for (std::size_t r0 = 0; r0 < rows; r0 += kBlockRows) {
        const std::size_t n = std::min(kBlockRows, rows - r0);
        float* db = dz + r0 * cols;
        detail::softmax_numerators(z + r0 * cols, n, cols, db, per_row);
        detail::row_sum(db, n, cols, per_row);
        for (std::size_t r = 0; r < n; ++r) per_row[r] = factor / per_row[r];
        detail::scale_rows(db, n, cols, per_row);
        for (std::size_t r = 0; r < n; ++r) {
          float* dr = db + r * cols;
          if (has_class_ids(c)) {
            dr[input<std::int32_t>(c, 1)[r0 + r]] -= factor;
          } else {
            const float* tr = input<float>(c, 1) + (r0 + r) * cols;
            for (std::size_t j = 0; j < cols; ++j) dr[j] -= factor * tr[j];
          }
        }
      }
      return;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const T* zr = z + r * cols;
      T* dr = dz + r * cols;
      T m = zr[0];
      for (std::size_t j = 1; j < cols; ++j) m = zr[j] > m ? zr[j] : m;
      T total = 0;
      for (std::size_t j = 0; j < cols; ++j) {
        T e = std::exp(zr[j] - m);
        dr[j] = e;
        total += e;
      }
      const T scale = factor / total;
      for (std::size_t j = 0; j < cols; ++j) dr[j] *= scale;
      if (has_class_ids(c)) {
        dr[input<std::int32_t>(c, 1)[r]] -= factor;
      } else {
        const T* tr = input<T>(c, 1) + r * cols;
        for (std::size_t j = 0; j < cols; ++j) dr[j] -= factor * tr[j];
      }
    }
  });
}

}  // namespace kiln::kernels
