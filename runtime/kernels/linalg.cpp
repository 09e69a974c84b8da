// Linear algebra. matmul, affine and affine_relu run the GEMM that
// bind_kernel() prepared for their shape on the backend chosen for it
// (runtime/gemm/), with affine's bias and ReLU as that GEMM's epilogue; a
// call bound without one (built by hand) runs through CBLAS. Transposes are
// flags on the stored row-major operands: no transposed copy is ever made.
// bind_kernel() has checked that every dimension fits CBLAS's int.
#include <cblas.h>

#include "runtime/gemm/gemm.hpp"
#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"

namespace kiln::kernels {
namespace {

using detail::input;
using detail::output;

struct GemmShape {
  blasint m, n, k, lda, ldb;
  CBLAS_TRANSPOSE ta, tb;
};

// C[m, n] = op(A) · op(B) for row-major A [a0, a1] and B [b0, b1].
GemmShape gemm_shape(const Shape& a, const Shape& b, bool transpose_a, bool transpose_b) {
  GemmShape g;
  g.m = static_cast<blasint>(transpose_a ? a[1] : a[0]);
  g.k = static_cast<blasint>(transpose_a ? a[0] : a[1]);
  g.n = static_cast<blasint>(transpose_b ? b[0] : b[1]);
  g.lda = static_cast<blasint>(a[1]);
  g.ldb = static_cast<blasint>(b[1]);
  g.ta = transpose_a ? CblasTrans : CblasNoTrans;
  g.tb = transpose_b ? CblasTrans : CblasNoTrans;
  return g;
}

// C = op(A)·op(B) + beta·C
void gemm(DType dtype, const GemmShape& g, const void* a, const void* b, double beta, void* c) {
  if (dtype == DType::f64)
    cblas_dgemm(CblasRowMajor, g.ta, g.tb, g.m, g.n, g.k, 1.0, static_cast<const double*>(a), g.lda,
                static_cast<const double*>(b), g.ldb, beta, static_cast<double*>(c), g.n);
  else
    cblas_sgemm(CblasRowMajor, g.ta, g.tb, g.m, g.n, g.k, 1.0f, static_cast<const float*>(a), g.lda,
                static_cast<const float*>(b), g.ldb, static_cast<float>(beta), static_cast<float*>(c), g.n);
}

// y = x·W + b: each output row starts as the bias and GEMM adds onto it
// (beta = 1), so the bias costs one pass over y and no extra buffer.
template <class T>
void affine_into(const KernelCall& c, bool then_relu) {
  const Shape& x = *c.in[0].shape;
  const Shape& w = *c.in[1].shape;
  const T* __restrict__ bias = input<T>(c, 2);
  T* __restrict__ y = output<T>(c);
  std::size_t rows = static_cast<std::size_t>(x[0]), cols = static_cast<std::size_t>(w[1]);
  for (std::size_t r = 0; r < rows; ++r) {
    T* yr = y + r * cols;
    for (std::size_t j = 0; j < cols; ++j) yr[j] = bias[j];
  }
  gemm(c.dtype, gemm_shape(x, w, false, false), c.in[0].data, c.in[1].data, 1.0, c.out);
  if (then_relu) {
    std::size_t n = rows * cols;
    for (std::size_t i = 0; i < n; ++i) y[i] = y[i] < T(0) ? T(0) : y[i];
  }
}

}  // namespace

void matmul(const KernelCall& c) {
  if (c.gemm) return c.gemm->run(c.in[0].data, c.in[1].data, nullptr, c.out);
  GemmShape g = gemm_shape(*c.in[0].shape, *c.in[1].shape, c.attrs->transpose_a, c.attrs->transpose_b);
  gemm(c.dtype, g, c.in[0].data, c.in[1].data, 0.0, c.out);
}

void dot(const KernelCall& c) {
  blasint n = static_cast<blasint>((*c.in[0].shape)[0]);
  if (c.dtype == DType::f64)
    *output<double>(c) = cblas_ddot(n, input<double>(c, 0), 1, input<double>(c, 1), 1);
  else
    *output<float>(c) = cblas_sdot(n, input<float>(c, 0), 1, input<float>(c, 1), 1);
}

void affine(const KernelCall& c) {
  if (c.gemm) return c.gemm->run(c.in[0].data, c.in[1].data, c.in[2].data, c.out);
  if (c.dtype == DType::f64) affine_into<double>(c, false);
  else affine_into<float>(c, false);
}

void affine_relu(const KernelCall& c) {
  if (c.gemm) return c.gemm->run(c.in[0].data, c.in[1].data, c.in[2].data, c.out);
  if (c.dtype == DType::f64) affine_into<double>(c, true);
  else affine_into<float>(c, true);
}

}  // namespace kiln::kernels
