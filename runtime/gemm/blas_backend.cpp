// CBLAS (OpenBLAS by default): runs every Desc. Transposes are flags on the
// stored operands; a bias epilogue writes the bias rows first and lets GEMM
// accumulate onto them (beta = 1), so it costs one pass over C. Where
// OpenBLAS's small NN kernel would malloc on every call (AVX-512 cores; see
// openblas_small_matrix.cpp), B is copied transposed into a buffer allocated
// here, once, and the product runs as NT: a step then allocates nothing on
// any CPU, for the price of a k×n copy per call, which the per-shape
// measurement weighs against the other backends like any other cost.
#include <cblas.h>

#include <vector>

#include "runtime/gemm/backends.hpp"
#include "runtime/threads.hpp"

namespace kiln::gemm::detail {
namespace {

template <class T>
class BlasGemm final : public Prepared {
 public:
  BlasGemm(const Desc& d, int max_threads, BlasRoute route)
      : Prepared(d, Backend::blas, max_threads),
        m_(static_cast<blasint>(d.m)), n_(static_cast<blasint>(d.n)), k_(static_cast<blasint>(d.k)),
        lda_(static_cast<blasint>(d.lda)), ldb_(static_cast<blasint>(d.ldb)), ldc_(static_cast<blasint>(d.ldc)),
        ta_(d.transpose_a ? CblasTrans : CblasNoTrans), tb_(d.transpose_b ? CblasTrans : CblasNoTrans),
        alpha_(static_cast<T>(d.alpha)), beta_(static_cast<T>(d.beta)) {
    if (route == BlasRoute::b_transposed && !d.transpose_b) {
      b_transposed_.resize(static_cast<std::size_t>(d.n) * static_cast<std::size_t>(d.k));
      tb_ = CblasTrans;
      ldb_ = k_;
    }
  }

  void run(const void* a, const void* b, const void* bias, void* c) const override {
    if (max_threads() == 0) return run_here(a, b, bias, c);
    BlasThreadLimit limit(max_threads());
    run_here(a, b, bias, c);
  }

 private:
  void run_here(const void* a, const void* b, const void* bias, void* c) const {
    T* y = static_cast<T*>(c);
    T beta = beta_;
    if (desc().epilogue != Epilogue::none) {
      fill_bias_rows(desc(), static_cast<const T*>(bias), y);
      beta = T(1);
    }
    const T* b_read = static_cast<const T*>(b);
    if (!b_transposed_.empty()) b_read = copy_b_transposed(b_read);
    if constexpr (std::is_same_v<T, double>)
      cblas_dgemm(CblasRowMajor, ta_, tb_, m_, n_, k_, alpha_, static_cast<const T*>(a), lda_, b_read, ldb_, beta, y,
                  ldc_);
    else
      cblas_sgemm(CblasRowMajor, ta_, tb_, m_, n_, k_, alpha_, static_cast<const T*>(a), lda_, b_read, ldb_, beta, y,
                  ldc_);
    if (desc().epilogue == Epilogue::bias_relu) relu_rows(desc(), y);
  }

  // B (k rows of the Desc's ldb) into b_transposed_ (n rows of k): reads run
  // along B's rows, so the strided side is the small buffer's.
  const T* copy_b_transposed(const T* __restrict__ b) const {
    const std::size_t n = static_cast<std::size_t>(desc().n), k = static_cast<std::size_t>(desc().k),
                      ldb = static_cast<std::size_t>(desc().ldb);
    T* __restrict__ out = b_transposed_.data();
    for (std::size_t p = 0; p < k; ++p)
      for (std::size_t j = 0; j < n; ++j) out[j * k + p] = b[p * ldb + j];
    return out;
  }

  blasint m_, n_, k_, lda_, ldb_, ldc_;
  CBLAS_TRANSPOSE ta_, tb_;
  T alpha_, beta_;
  mutable std::vector<T> b_transposed_;  // empty unless the route copies B
};

}  // namespace

std::unique_ptr<Prepared> prepare_blas(const Desc& d, int max_threads, BlasRoute route) {
  ensure_openblas_full_isa();
  if (d.dtype == DType::f64) return std::make_unique<BlasGemm<double>>(d, max_threads, route);
  return std::make_unique<BlasGemm<float>>(d, max_threads, route);
}

std::unique_ptr<Prepared> prepare_blas(const Desc& d, int max_threads) {
  const BlasRoute route =
      openblas_small_kernel_allocates(d, blas_core()) ? BlasRoute::b_transposed : BlasRoute::as_described;
  return prepare_blas(d, max_threads, route);
}

}  // namespace kiln::gemm::detail
