// CBLAS (OpenBLAS by default): runs every Desc. Transposes are flags on the
// stored operands; a bias epilogue writes the bias rows first and lets GEMM
// accumulate onto them (beta = 1), so it costs one pass over C.
#include <cblas.h>

#include "runtime/gemm/backends.hpp"
#include "runtime/threads.hpp"

namespace kiln::gemm::detail {
namespace {

template <class T>
class BlasGemm final : public Prepared {
 public:
  BlasGemm(const Desc& d, int max_threads)
      : Prepared(d, Backend::blas, max_threads),
        m_(static_cast<blasint>(d.m)), n_(static_cast<blasint>(d.n)), k_(static_cast<blasint>(d.k)),
        lda_(static_cast<blasint>(d.lda)), ldb_(static_cast<blasint>(d.ldb)), ldc_(static_cast<blasint>(d.ldc)),
        ta_(d.transpose_a ? CblasTrans : CblasNoTrans), tb_(d.transpose_b ? CblasTrans : CblasNoTrans),
        alpha_(static_cast<T>(d.alpha)), beta_(static_cast<T>(d.beta)) {}

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
    if constexpr (std::is_same_v<T, double>)
      cblas_dgemm(CblasRowMajor, ta_, tb_, m_, n_, k_, alpha_, static_cast<const T*>(a), lda_,
                  static_cast<const T*>(b), ldb_, beta, y, ldc_);
    else
      cblas_sgemm(CblasRowMajor, ta_, tb_, m_, n_, k_, alpha_, static_cast<const T*>(a), lda_,
                  static_cast<const T*>(b), ldb_, beta, y, ldc_);
    if (desc().epilogue == Epilogue::bias_relu) relu_rows(desc(), y);
  }

  blasint m_, n_, k_, lda_, ldb_, ldc_;
  CBLAS_TRANSPOSE ta_, tb_;
  T alpha_, beta_;
};

}  // namespace

std::unique_ptr<Prepared> prepare_blas(const Desc& d, int max_threads) {
  ensure_openblas_full_isa();
  if (d.dtype == DType::f64) return std::make_unique<BlasGemm<double>>(d, max_threads);
  return std::make_unique<BlasGemm<float>>(d, max_threads);
}

}  // namespace kiln::gemm::detail
