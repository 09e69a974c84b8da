#pragma once
// Helpers shared by the kernel files; not part of the public runtime API.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "graph/error.hpp"
#include "graph/shape_rules.hpp"
#include "runtime/kernel_call.hpp"

namespace kiln::kernels::detail {

// Calls f(T{}) with T = float or double after the call's output dtype.
template <class F>
inline void for_float(DType dtype, F&& f) {
  if (dtype == DType::f64) f(double{});
  else f(float{});
}

template <class T>
inline const T* input(const KernelCall& c, int k) {
  return static_cast<const T*>(c.in[static_cast<std::size_t>(k)].data);
}
template <class T>
inline T* output(const KernelCall& c) {
  return static_cast<T*>(c.out);
}

inline std::size_t numel(const Shape* s) { return static_cast<std::size_t>(s->numel()); }

// A tensor seen as [outer, n, inner] around one axis: the axis has n entries
// `inner` elements apart, and there are outer * inner independent lanes.
struct AxisView {
  std::size_t outer = 1, n = 1, inner = 1;
};

inline AxisView view_around(const Shape& s, int axis) {
  AxisView v;
  std::size_t a = static_cast<std::size_t>(shape_rules::normalize_axis(axis, s.rank()));
  for (std::size_t i = 0; i < a; ++i) v.outer *= static_cast<std::size_t>(s[i]);
  v.n = static_cast<std::size_t>(s[a]);
  for (std::size_t i = a + 1; i < s.rank(); ++i) v.inner *= static_cast<std::size_t>(s[i]);
  return v;
}

// The softmax family's axis: the attribute, or the last one when absent.
inline AxisView softmax_view(const KernelCall& c, const Shape& s) {
  return view_around(s, c.attrs && c.attrs->axis ? *c.attrs->axis : static_cast<int>(s.rank()) - 1);
}

// Calls f(offset, stride) for every lane of `v`: the lane's elements are at
// offset + k * stride for k < v.n. A contiguous lane passes stride as a
// compile-time 1 so its loops vectorise.
template <class F>
inline void for_each_lane(const AxisView& v, F&& f) {
  if (v.inner == 1) {
    for (std::size_t o = 0; o < v.outer; ++o) f(o * v.n, std::integral_constant<std::size_t, 1>{});
    return;
  }
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t i = 0; i < v.inner; ++i) f(o * v.n * v.inner + i, v.inner);
}

// Sums of many terms are accumulated in double for both dtypes: a loss over a
// large batch in f32 would otherwise lose digits.
using Accumulator = double;

}  // namespace kiln::kernels::detail
