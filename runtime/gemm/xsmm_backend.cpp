// libxsmm 1.17: a JIT kernel generated (or found in libxsmm's registry) once
// when the GEMM is prepared; each call is then one indirect call. libxsmm is
// column-major, so the row-major C = op(A)·op(B) runs as the column-major
// Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands swap, m and n swap, and the transpose
// flags follow their operands. libxsmm 1.17 has no JIT kernel for some
// transposes (row-major A·Bᵀ among them) and none for alpha ≠ 1 or beta
// outside {0, 1}: it then has no Prepared, and another backend runs the shape.
#ifdef KILN_HAVE_XSMM
#include <libxsmm.h>

#include <mutex>

#include "runtime/gemm/backends.hpp"

namespace kiln::gemm::detail {
namespace {

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { libxsmm_init(); });
}

template <class T>
using XsmmFunction = void (*)(const T*, const T*, T*, ...);

template <class T>
XsmmFunction<T> dispatch(const Desc& d, double beta) {
  const libxsmm_blasint m = static_cast<libxsmm_blasint>(d.n), n = static_cast<libxsmm_blasint>(d.m),
                        k = static_cast<libxsmm_blasint>(d.k);
  const libxsmm_blasint lda = static_cast<libxsmm_blasint>(d.ldb), ldb = static_cast<libxsmm_blasint>(d.lda),
                        ldc = static_cast<libxsmm_blasint>(d.ldc);
  // BETA_0 spelled out: without it a zero beta still reads C, and a reused
  // buffer's NaN or infinity would survive 0·C.
  const int flags = (d.transpose_b ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) | (d.transpose_a ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) |
                    (beta == 0.0 ? LIBXSMM_GEMM_FLAG_BETA_0 : 0);
  const int prefetch = LIBXSMM_GEMM_PREFETCH_NONE;
  const T alpha = T(1), b = static_cast<T>(beta);
  if constexpr (std::is_same_v<T, double>)
    return reinterpret_cast<XsmmFunction<T>>(libxsmm_dmmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &b, &flags, &prefetch));
  else
    return reinterpret_cast<XsmmFunction<T>>(libxsmm_smmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &b, &flags, &prefetch));
}

template <class T>
class XsmmGemm final : public Prepared {
 public:
  XsmmGemm(const Desc& d, XsmmFunction<T> kernel) : Prepared(d, Backend::xsmm), kernel_(kernel) {}

  void run(const void* a, const void* b, const void* bias, void* c) const override {
    T* y = static_cast<T*>(c);
    if (desc().epilogue != Epilogue::none) fill_bias_rows(desc(), static_cast<const T*>(bias), y);
    kernel_(static_cast<const T*>(b), static_cast<const T*>(a), y);
    if (desc().epilogue == Epilogue::bias_relu) relu_rows(desc(), y);
  }

 private:
  XsmmFunction<T> kernel_;
};

template <class T>
std::unique_ptr<Prepared> prepare_typed(const Desc& d) {
  // A bias epilogue writes the bias first and accumulates onto it.
  const double beta = d.epilogue != Epilogue::none ? 1.0 : d.beta;
  if (d.alpha != 1.0 || (beta != 0.0 && beta != 1.0)) return nullptr;
  XsmmFunction<T> kernel = dispatch<T>(d, beta);
  if (!kernel) return nullptr;
  return std::make_unique<XsmmGemm<T>>(d, kernel);
}

}  // namespace

std::unique_ptr<Prepared> prepare_xsmm(const Desc& d) {
  init_once();
  if (d.dtype == DType::f64) return prepare_typed<double>(d);
  return prepare_typed<float>(d);
}

std::string xsmm_isa() {
  init_once();
  return "libxsmm " + std::to_string(LIBXSMM_VERSION_MAJOR) + "." + std::to_string(LIBXSMM_VERSION_MINOR) +
         "; JIT target " + libxsmm_get_target_arch();
}

}  // namespace kiln::gemm::detail
#endif  // KILN_HAVE_XSMM
