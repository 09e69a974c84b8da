// Optimizer updates (graph/ops.def, Category::update). The plan binds each
// call's output to the storage of operand 0, so these overwrite a param or a
// piece of optimizer state in place; every element is read before it is
// written, which makes that aliasing safe.
#include <cblas.h>

#include <cmath>
#include <cstring>

#include "runtime/gemm/gemm.hpp"
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

// P = (1 − lr·wd)·P − lr·op(A)·op(B): the weight gradient's GEMM accumulates
// straight into the param (beta = 1 − lr·wd, alpha = −lr), so the gradient
// is never stored and P is swept once. bind_kernel() prepares that GEMM on the
// backend chosen for it; a call bound without one runs through CBLAS.
void sgd_matmul_update(const KernelCall& c) {
  // A call built by hand may give the new value its own buffer; the plan and
  // the executor bind it to P's storage, which makes this a no-op.
  if (c.out != c.in[0].data)
    std::memcpy(c.out, c.in[0].data, numel(c.out_shape) * dtype_size(c.dtype));
  if (c.gemm) return c.gemm->run(c.in[1].data, c.in[2].data, nullptr, c.out);
  const Shape& a = *c.in[1].shape;
  const Shape& b = *c.in[2].shape;
  const bool ta = c.attrs->transpose_a, tb = c.attrs->transpose_b;
  const auto m = static_cast<blasint>(ta ? a[1] : a[0]), k = static_cast<blasint>(ta ? a[0] : a[1]);
  const auto n = static_cast<blasint>(tb ? b[0] : b[1]);
  const auto lda = static_cast<blasint>(a[1]), ldb = static_cast<blasint>(b[1]);
  const double alpha = -c.attrs->lr, beta = 1.0 - c.attrs->lr * c.attrs->weight_decay;
  const CBLAS_TRANSPOSE cta = ta ? CblasTrans : CblasNoTrans, ctb = tb ? CblasTrans : CblasNoTrans;
  if (c.dtype == DType::f64)
    cblas_dgemm(CblasRowMajor, cta, ctb, m, n, k, alpha, input<double>(c, 1), lda, input<double>(c, 2), ldb, beta,
                output<double>(c), n);
  else
    cblas_sgemm(CblasRowMajor, cta, ctb, m, n, k, static_cast<float>(alpha), input<float>(c, 1), lda,
                input<float>(c, 2), ldb, static_cast<float>(beta), output<float>(c), n);
}

}  // namespace kiln::kernels
