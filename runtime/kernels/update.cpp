// Optimizer updates (graph/ops.def, Category::update). The plan binds each
// call's output to the storage of operand 0, so these overwrite a param or a
// piece of optimizer state in place; every element is read before it is
// written, which makes that aliasing safe.
#include <cmath>

#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"

namespace kiln::kernels {

using detail::for_float;
using detail::input;
using detail::numel;
using detail::output;

void sgd_update(const KernelCall& c) {
  for_float(c.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* p = input<T>(c, 0);
    const T* g = input<T>(c, 1);
    T* out = output<T>(c);
    const T lr = static_cast<T>(c.attrs->lr), wd = static_cast<T>(c.attrs->weight_decay);
    const std::size_t n = numel(c.out_shape);
    for (std::size_t i = 0; i < n; ++i) out[i] = p[i] - lr * (g[i] + wd * p[i]);
  });
}

void momentum_update(const KernelCall& c) {
  for_float(c.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* v = input<T>(c, 0);
    const T* g = input<T>(c, 1);
    const T* p = input<T>(c, 2);
    T* out = output<T>(c);
    const T mu = static_cast<T>(c.attrs->momentum), wd = static_cast<T>(c.attrs->weight_decay);
    const std::size_t n = numel(c.out_shape);
    for (std::size_t i = 0; i < n; ++i) out[i] = mu * v[i] + g[i] + wd * p[i];
  });
}

void ema_update(const KernelCall& c) {
  for_float(c.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* m = input<T>(c, 0);
    const T* g = input<T>(c, 1);
    const T* p = input<T>(c, 2);
    T* out = output<T>(c);
    const T b = static_cast<T>(c.attrs->beta1), wd = static_cast<T>(c.attrs->weight_decay);
    const std::size_t n = numel(c.out_shape);
    for (std::size_t i = 0; i < n; ++i) out[i] = b * m[i] + (T(1) - b) * (g[i] + wd * p[i]);
  });
}

void ema_square_update(const KernelCall& c) {
  for_float(c.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* v = input<T>(c, 0);
    const T* g = input<T>(c, 1);
    const T* p = input<T>(c, 2);
    T* out = output<T>(c);
    const T b = static_cast<T>(c.attrs->beta2), wd = static_cast<T>(c.attrs->weight_decay);
    const std::size_t n = numel(c.out_shape);
    for (std::size_t i = 0; i < n; ++i) {
      T d = g[i] + wd * p[i];
      out[i] = b * v[i] + (T(1) - b) * d * d;
    }
  });
}

void step_count(const KernelCall& c) {
  for_float(c.dtype, [&](auto zero) {
    using T = decltype(zero);
    output<T>(c)[0] = input<T>(c, 0)[0] + T(1);
  });
}

// PyTorch's Adam: p -= lr · m̂ / (√v̂ + eps) with m̂ = m / (1 − β1^t) and
// v̂ = v / (1 − β2^t); the corrections are computed once per call in double.
void adam_update(const KernelCall& c) {
  for_float(c.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* p = input<T>(c, 0);
    const T* m = input<T>(c, 1);
    const T* v = input<T>(c, 2);
    const double t = static_cast<double>(input<T>(c, 3)[0]);
    T* out = output<T>(c);
    const double c1 = 1.0 - std::pow(c.attrs->beta1, t), c2 = 1.0 - std::pow(c.attrs->beta2, t);
    const T step = static_cast<T>(c.attrs->lr / c1), root_c2 = static_cast<T>(std::sqrt(c2));
    const T eps = static_cast<T>(c.attrs->eps);
    const std::size_t n = numel(c.out_shape);
    for (std::size_t i = 0; i < n; ++i) out[i] = p[i] - step * m[i] / (std::sqrt(v[i]) / root_c2 + eps);
  });
}

}  // namespace kiln::kernels
