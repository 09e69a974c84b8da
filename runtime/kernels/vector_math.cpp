#include "runtime/kernels/vector_math.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>

// KILN_VECTOR_MATH_ONE_TARGET: built for the one -march that CMake's
// KILN_VECTOR_MATH_ARCH names, to test and time one clone on any newer CPU.
#ifdef KILN_VECTOR_MATH_ONE_TARGET
#define KILN_VECTOR_CLONES
#else
#define KILN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif

namespace kiln::kernels::detail {
namespace {

// Whether the code running is the AVX-512 clone (or an AVX-512 build): the
// names the clones are dispatched on.
inline bool avx512_code() {
#ifdef KILN_VECTOR_MATH_ONE_TARGET
#ifdef __AVX512F__
  return true;
#else
  return false;
#endif
#else
  return __builtin_cpu_supports("x86-64-v4");
#endif
}

// 16 floats as one value: a reduction written on it vectorises without
// -ffast-math (GCC keeps a scalar loop's max and sum in order), and GCC
// lowers it to whatever the clone's instruction set has.
typedef float Float16 __attribute__((vector_size(64)));

// Through memcpy: rows are not 64-byte aligned. An out-parameter, not a
// return value: returning the vector would change the baseline clone's ABI.
inline void load16(Float16& v, const float* p) { std::memcpy(&v, p, sizeof v); }

inline float exp_one(float v) {
  constexpr float kHigh = 88.3762626647949f, kLow = -87.3365447504f;  // e^kLow: the smallest normal
  constexpr float kRound = 12582912.0f;  // 1.5·2^23: adding and subtracting it rounds to an integer
  // The clamps are integer minimums of the bit pattern, not float selects:
  // GCC threads a float select whose outcome is a constant through the
  // whole polynomial, leaving the rest under a branch that only AVX-512's
  // masked instructions if-convert, so the AVX2 and baseline loops ran
  // scalar. A float's bits ordered as signed integers order the positive
  // floats (the negative ones are negative integers), as unsigned integers
  // the negative floats' magnitudes (the positive ones are below 2^31).
  // Written as ?: on integers, which GCC folds to a minimum before it
  // threads anything (std::min's branch on references would be threaded).
  // NaN lands on a clamp; it is put back at the end.
  constexpr std::int32_t kHighBits = std::bit_cast<std::int32_t>(kHigh);
  constexpr std::uint32_t kLowBits = std::bit_cast<std::uint32_t>(kLow);
  const std::int32_t bits = std::bit_cast<std::int32_t>(v);
  const std::uint32_t capped = static_cast<std::uint32_t>(bits < kHighBits ? bits : kHighBits);
  const float c = std::bit_cast<float>(capped < kLowBits ? capped : kLowBits);
  // e^c = 2^k · e^r with k = round(c / ln 2), |r| ≤ ln 2 / 2; ln 2 split in
  // two so that c − k·ln 2 stays exact.
  const float k = (c * 1.44269504088896341f + kRound) - kRound;
  float r = c - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const float two_to_k = std::bit_cast<float>((static_cast<std::int32_t>(k) + 127) << 23);
  // 0 below kLow, v itself for NaN: bit masks, as selects would be branches.
  const std::int32_t in_range = -static_cast<std::int32_t>(v >= kLow);  // all ones or none (NaN: none)
  const std::int32_t nan = -static_cast<std::int32_t>(v != v);
  return std::bit_cast<float>((std::bit_cast<std::int32_t>(p * two_to_k) & in_range) | (bits & nan));
}

}  // namespace

// libm's expf is a scalar call per element (a few ns each); this loop runs
// 16 lanes at a time on AVX-512, about 20x faster over a softmax's logits.
KILN_VECTOR_CLONES
void exp_in_place(float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) x[i] = exp_one(x[i]);
}

KILN_VECTOR_CLONES
void exp_shifted(const float* x, std::size_t n, float shift, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = exp_one(x[i] - shift);
}

KILN_VECTOR_CLONES
void log_in_place(float* x, std::size_t n) {
  // m < √½ is decided on the mantissa bits, and m + m − 1 for those is the
  // same mantissa under the next exponent, minus 1: integer arithmetic, no
  // float select for GCC to turn into a branch (which kept this loop scalar
  // outside AVX-512; see exp_one).
  constexpr std::int32_t kHalfBits = 0x3f000000;  // 0.5
  constexpr std::int32_t kSqrtHalfMantissa = std::bit_cast<std::int32_t>(0.707106781186547524f) - kHalfBits;
  static_assert(kSqrtHalfMantissa > 0 && kSqrtHalfMantissa < (1 << 23), "sqrt(1/2) lies in [0.5, 1)");
  for (std::size_t i = 0; i < n; ++i) {
    // x = m·2^e with m in [√½, √2): ln x = e·ln 2 + ln m, ln m by a polynomial in m − 1.
    const std::int32_t bits = std::bit_cast<std::int32_t>(x[i]);
    const std::int32_t mantissa = bits & 0x007fffff;
    const std::int32_t low = mantissa < kSqrtHalfMantissa;  // m in [0.5, √½): take 2m, e − 1
    const float e = static_cast<float>(((bits >> 23) & 0xff) - 126 - low);
    const float m = std::bit_cast<float>(mantissa | (kHalfBits + (low << 23))) - 1.0f;
    const float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    x[i] = m + y + 0.693359375f * e;
  }
}

namespace {

typedef float Float8 __attribute__((vector_size(32)));
typedef float Float4 __attribute__((vector_size(16)));

// Whether the code running is the AVX2 clone or better (or such a build).
inline bool avx2_code() {
#ifdef KILN_VECTOR_MATH_ONE_TARGET
#ifdef __AVX2__
  return true;
#else
  return false;
#endif
#else
  return __builtin_cpu_supports("x86-64-v3");
#endif
}

// In vectors of V, which must fit the running code's registers: GCC lowers
// the selects of a vector wider than them to scalar code (Float16 in the
// AVX2 clone, Float8 in the baseline one, read in their disassembly).
// Forced inline, as an out-of-line helper is a baseline function.
template <class V>
__attribute__((always_inline)) inline void min_max_in(const float* x, std::size_t n, float* lo, float* hi) {
  constexpr std::size_t kWidth = sizeof(V) / sizeof(float);
  float low = x[0], high = x[0];
  std::size_t i = 0;
  if (n >= kWidth) {
    V vlow, vhigh;
    std::memcpy(&vlow, x, sizeof vlow);
    vhigh = vlow;
    for (; i + kWidth <= n; i += kWidth) {
      V v;
      std::memcpy(&v, x + i, sizeof v);
      vlow = v < vlow ? v : vlow;
      vhigh = v > vhigh ? v : vhigh;
    }
    for (std::size_t l = 0; l < kWidth; ++l) {
      low = std::min(low, vlow[l]);
      high = std::max(high, vhigh[l]);
    }
  }
  for (; i < n; ++i) {
    low = std::min(low, x[i]);
    high = std::max(high, x[i]);
  }
  *lo = low;
  *hi = high;
}

__attribute__((always_inline)) inline void min_max_of(const float* x, std::size_t n, float* lo, float* hi) {
  if (avx512_code()) min_max_in<Float16>(x, n, lo, hi);
  else if (avx2_code()) min_max_in<Float8>(x, n, lo, hi);
  else min_max_in<Float4>(x, n, lo, hi);
}

}  // namespace

KILN_VECTOR_CLONES
void min_max(const float* x, std::size_t n, float* lo, float* hi) { min_max_of(x, n, lo, hi); }

namespace {

typedef std::int32_t Int16 __attribute__((vector_size(64)));
typedef std::int32_t Int8 __attribute__((vector_size(32)));
typedef std::int32_t Int4 __attribute__((vector_size(16)));

template <class V>
struct LaneIndexOf;
template <>
struct LaneIndexOf<Float16> {
  using Type = Int16;
};
template <>
struct LaneIndexOf<Float8> {
  using Type = Int8;
};
template <>
struct LaneIndexOf<Float4> {
  using Type = Int4;
};

// Forced inline, and the vector in place rather than returned (as load16):
// a helper left out of line is a baseline function, and a standalone build
// of this code whose helper took and returned vectors by value gave the
// clones wrong maxes.
template <class V>
__attribute__((always_inline)) inline void max_in_every_lane(V& v) {
  // Butterfly steps: each lane ends up with the max of all, so the result
  // is already the splat that the spread stores need.
  V s;
  if constexpr (sizeof(V) == 64) {
    s = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
    v = s > v ? s : v;
    s = __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
    v = s > v ? s : v;
    s = __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    v = s > v ? s : v;
    s = __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
  } else if constexpr (sizeof(V) == 32) {
    s = __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3);
    v = s > v ? s : v;
    s = __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5);
    v = s > v ? s : v;
    s = __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6);
  } else {
    s = __builtin_shufflevector(v, v, 2, 3, 0, 1);
    v = s > v ? s : v;
    s = __builtin_shufflevector(v, v, 1, 0, 3, 2);
  }
  v = s > v ? s : v;
}

// For rows [0, n) of zg: shift[r] = the row's max, and spread[r·cols + j] =
// that max for every column j, so that one flat pass can then subtract each
// element's own row max. A row is read as vectors of V (the last one
// starting at the row's last full-or-partial chunk, the lanes past the row
// masked to −inf), which the input allows while the read ends within
// `readable` floats of zg; the remaining rows (the buffer's last few) are
// read one float at a time. The splat stores spill up to one vector past
// a row into the next row's slots, which are written afterwards, and past
// the last row: spread needs a vector's slack.
template <class V>
__attribute__((always_inline)) inline void spread_row_maxes(const float* zg, std::size_t n, std::size_t cols, std::size_t readable,
                                                            float* shift, float* spread) {
  using Lanes = typename LaneIndexOf<V>::Type;
  constexpr std::size_t kWidth = sizeof(V) / sizeof(float);
  const std::size_t tail = (cols - 1) / kWidth * kWidth;  // where the last, possibly partial, chunk starts
  Lanes lane;
  for (std::size_t l = 0; l < kWidth; ++l) lane[l] = static_cast<std::int32_t>(l);
  const Lanes in_tail = lane < static_cast<std::int32_t>(cols - tail);
  const V minus_infinity = V{} - std::numeric_limits<float>::infinity();
  std::size_t r = 0;
  for (; r < n && r * cols + tail + kWidth <= readable; ++r) {
    const float* zr = zg + r * cols;
    V v, m;
    std::memcpy(&v, zr + tail, sizeof v);
    m = in_tail ? v : minus_infinity;
    for (std::size_t j = 0; j < tail; j += kWidth) {
      std::memcpy(&v, zr + j, sizeof v);
      m = v > m ? v : m;
    }
    max_in_every_lane(m);
    shift[r] = m[0];
    for (std::size_t j = 0; j <= tail; j += kWidth) std::memcpy(spread + r * cols + j, &m, sizeof m);
  }
  for (; r < n; ++r) {
    const float* zr = zg + r * cols;
    float m = zr[0];
    for (std::size_t j = 1; j < cols; ++j) m = std::max(m, zr[j]);
    shift[r] = m;
    for (std::size_t j = 0; j < cols; ++j) spread[r * cols + j] = m;
  }
}

}  // namespace

// Groups of rows at least kGroupFloats long. A group whose logits span at
// most kSharedShiftSpread shares one shift, its max: every row's own max is
// then within 16 of it, so each row's largest numerator is ≥ e^−16 and
// nothing that the per-row shift keeps is flushed to zero (that happens only
// 71 or more below a row's max instead of 87, far below a float's digits of
// the row's sum), and the loss's log of the row sum stays within 16 of zero,
// so it keeps its absolute accuracy. One flat min/max pass and one flat exp
// pass then replace the per-row maxes. A group of logits that spread further
// is shifted row by row: each row's max from a vector or two per row
// (spread_row_maxes; scalar max and subtraction loops over 10-wide rows cost
// twice the exp pass), splatted into a scratch copy of the group's shape, and the same
// flat exp pass subtracts the scratch element by element. The scratch, not
// stores into out, carries the maxes because out may be z: a store spilling
// past a row would overwrite the next row's logits before they are read, and
// a later load of them would stall behind that overlapping store.
KILN_VECTOR_CLONES
void softmax_numerators(const float* z, std::size_t rows, std::size_t cols, float* out, float* shift) {
  constexpr std::size_t kGroupFloats = 128;
  constexpr float kSharedShiftSpread = 16.0f;
  const std::size_t group = std::max<std::size_t>(1, (kGroupFloats + cols - 1) / cols);
  // A group of more than one row is under 2·kGroupFloats floats (cols < kGroupFloats).
  alignas(64) float spread[2 * kGroupFloats + 16];
  for (std::size_t r0 = 0; r0 < rows; r0 += group) {
    const std::size_t n = std::min(group, rows - r0);
    const float* zg = z + r0 * cols;
    float* og = out + r0 * cols;
    float lo, hi;
    min_max_of(zg, n * cols, &lo, &hi);
    if (n == 1 || hi - lo <= kSharedShiftSpread) {
      for (std::size_t r = 0; r < n; ++r) shift[r0 + r] = hi;
      for (std::size_t i = 0; i < n * cols; ++i) og[i] = exp_one(zg[i] - hi);
      continue;
    }
    // The narrowest vector that holds a row wastes the fewest lanes, up to
    // the widest the running code holds in registers (as min_max_in): the
    // AVX2 clone turned 16-float shuffles and selects into scalar code, twice
    // as slow as the scalar loop for rows of 10, and the baseline one does
    // the same to 8 floats (rows of 10 spread over 40 then took 2.5 times as
    // long as in vectors of 4).
    const std::size_t readable = (rows - r0) * cols;
    if (cols <= 4 || !avx2_code())
      spread_row_maxes<Float4>(zg, n, cols, readable, shift + r0, spread);
    else if (cols <= 8 || !avx512_code())
      spread_row_maxes<Float8>(zg, n, cols, readable, shift + r0, spread);
    else
      spread_row_maxes<Float16>(zg, n, cols, readable, shift + r0, spread);
    for (std::size_t i = 0; i < n * cols; ++i) og[i] = exp_one(zg[i] - spread[i]);
  }
}

// Rows of 32 or more: 16 lanes at a time along the row. Narrower rows:
// column by column across rows (a strided load per lane), which vectorises
// however narrow the rows are.
KILN_VECTOR_CLONES
void row_max(const float* __restrict__ x, std::size_t rows, std::size_t cols, float* __restrict__ out) {
  if (cols >= 32) {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      Float16 m;
      load16(m, xr);
      std::size_t j = 16;
      for (; j + 16 <= cols; j += 16) {
        Float16 v;
        load16(v, xr + j);
        m = v > m ? v : m;
      }
      float best = m[0];
      for (int l = 1; l < 16; ++l) best = std::max(best, m[l]);
      for (; j < cols; ++j) best = std::max(best, xr[j]);
      out[r] = best;
    }
    return;
  }
  for (std::size_t r = 0; r < rows; ++r) out[r] = x[r * cols];
  for (std::size_t j = 1; j < cols; ++j)
    for (std::size_t r = 0; r < rows; ++r) {
      const float v = x[r * cols + j], m = out[r];
      out[r] = v > m ? v : m;
    }
}

// Rows of 32 or more: 16 partial sums along the row. Narrower rows: a plain
// loop per row, whose short dependency chains overlap across rows (measured
// faster than the strided form for 10-wide rows).
KILN_VECTOR_CLONES
void row_sum(const float* __restrict__ x, std::size_t rows, std::size_t cols, float* __restrict__ out) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float total = 0;
    std::size_t j = 0;
    if (cols >= 32) {
      Float16 s, v;
      load16(s, xr);
      for (j = 16; j + 16 <= cols; j += 16) {
        load16(v, xr + j);
        s += v;
      }
      for (int l = 0; l < 16; ++l) total += s[l];
    }
    for (; j < cols; ++j) total += xr[j];
    out[r] = total;
  }
}

KILN_VECTOR_CLONES
void scale_rows(float* __restrict__ x, std::size_t rows, std::size_t cols, const float* __restrict__ factor) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) x[r * cols + j] *= factor[r];
}

// Narrow rows: column by column from the last to the first across rows, as
// row_max, so the last match written is the first column. Wide rows: a scan
// along the row that stops at the first match.
KILN_VECTOR_CLONES
void row_argmax(const float* __restrict__ x, std::size_t rows, std::size_t cols, const float* __restrict__ max,
                std::int32_t* __restrict__ out) {
  if (cols >= 32) {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      std::size_t j = 0;
      while (j < cols && xr[j] != max[r]) ++j;
      out[r] = j < cols ? static_cast<std::int32_t>(j) : 0;
    }
    return;
  }
  for (std::size_t r = 0; r < rows; ++r) out[r] = 0;
  for (std::size_t j = cols; j-- > 0;)
    for (std::size_t r = 0; r < rows; ++r) out[r] = x[r * cols + j] == max[r] ? static_cast<std::int32_t>(j) : out[r];
}

// Narrow matrices (a 10-class bias gradient over 1,257 rows): a loop along a
// 10-wide row barely vectorises, so the matrix is read as one flat array and
// added into an accumulator `period` floats long — a multiple of both 16 and
// cols, so each accumulator slot always sees the same column — which is
// folded into the columns at the end. Wide matrices: 64 columns at a time
// in registers down all the rows (no store per row, so no row waits on the
// previous one's store and no store 4K-aliases the next rows' loads).
KILN_VECTOR_CLONES
void column_sum(const float* __restrict__ x, std::size_t rows, std::size_t cols, float* __restrict__ out) {
  constexpr std::size_t kMaxPeriod = 1024;
  if (cols < 64) {
    std::size_t period = std::lcm(cols, std::size_t{16});
    while (period < 256 && period * 2 <= kMaxPeriod) period *= 2;
    alignas(64) float acc[kMaxPeriod];
    std::fill(acc, acc + period, 0.0f);
    const std::size_t total = rows * cols, whole = total / period;
    for (std::size_t p = 0; p < whole; ++p) {
      const float* xp = x + p * period;
      for (std::size_t i = 0; i < period; ++i) acc[i] += xp[i];
    }
    // What is left is whole rows (total and period are both multiples of cols).
    const float* rest = x + whole * period;
    for (std::size_t i = 0; i < total - whole * period; ++i) acc[i] += rest[i];
    for (std::size_t j = 0; j < cols; ++j) {
      float s = 0;
      for (std::size_t k = j; k < period; k += cols) s += acc[k];
      out[j] = s;
    }
    return;
  }
  std::size_t j0 = 0;
  for (; j0 + 64 <= cols; j0 += 64) {
    Float16 a0 = {}, a1 = {}, a2 = {}, a3 = {}, v0, v1, v2, v3;
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols + j0;
      load16(v0, xr);
      load16(v1, xr + 16);
      load16(v2, xr + 32);
      load16(v3, xr + 48);
      a0 += v0;
      a1 += v1;
      a2 += v2;
      a3 += v3;
    }
    std::memcpy(out + j0, &a0, 64);
    std::memcpy(out + j0 + 16, &a1, 64);
    std::memcpy(out + j0 + 32, &a2, 64);
    std::memcpy(out + j0 + 48, &a3, 64);
  }
  if (j0 < cols) {
    const std::size_t width = cols - j0;  // < 64
    alignas(64) float acc[64];
    std::copy(x + j0, x + cols, acc);
    for (std::size_t r = 1; r < rows; ++r) {
      const float* xr = x + r * cols + j0;
      for (std::size_t i = 0; i < width; ++i) acc[i] += xr[i];
    }
    std::copy(acc, acc + width, out + j0);
  }
}

KILN_VECTOR_CLONES
void relu_backward(const float* dy, const float* y, float* dx, std::size_t n) {
  // Both loads unconditional: a load under the condition cannot be
  // vectorised (it might fault) and left a branch per element that a ReLU
  // mask mispredicts half the time.
  for (std::size_t i = 0; i < n; ++i) {
    const float g = dy[i];
    dx[i] = y[i] > 0.0f ? g : 0.0f;
  }
}

}  // namespace kiln::kernels::detail
