#pragma once
// The backends' factories, each in its own file; not part of the public API.
// A factory returns nullptr when it has no kernel for a (valid) Desc.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/gemm/gemm.hpp"

namespace kiln::gemm::detail {

// How the blas backend hands a product to CBLAS. as_described: one call with
// the Desc's operands. b_transposed: B is first copied, transposed, into a
// buffer the prepared GEMM owns, and the call reads it as Bᵀ (NN becomes NT),
// which keeps OpenBLAS off its small NN kernel where that kernel allocates.
enum class BlasRoute : std::uint8_t { as_described, b_transposed };

// max_threads as try_prepare takes it (0: the process setting). The route is
// b_transposed where openblas_small_kernel_allocates says so for the running
// core, else as_described; tests may name one.
std::unique_ptr<Prepared> prepare_blas(const Desc& d, int max_threads = 0);
std::unique_ptr<Prepared> prepare_blas(const Desc& d, int max_threads, BlasRoute route);
std::string blas_isa();
// OpenBLAS's running core ("Haswell", "Cooperlake"), "cblas" for another CBLAS.
std::string blas_core();

// OpenBLAS's AVX-512 cores have small-matrix kernels, and their NN kernel
// mallocs a buffer on every call for some shapes
// (runtime/gemm/openblas_small_matrix.cpp says which, and how that was
// established). Pure functions of the Desc and a core name, so that they can
// be tested on any machine.
bool openblas_core_has_small_kernels(std::string_view core);
bool openblas_small_kernel_allocates(const Desc& d, std::string_view core);

// kiln's own loops, f32 products with k ≤ 4 (runtime/gemm/direct_backend.cpp).
std::unique_ptr<Prepared> prepare_direct(const Desc& d);
std::string direct_isa();

#ifdef KILN_HAVE_XSMM
std::unique_ptr<Prepared> prepare_xsmm(const Desc& d);
std::string xsmm_isa();
#endif

#ifdef KILN_HAVE_DNNL
std::unique_ptr<Prepared> prepare_dnnl(const Desc& d);
std::string dnnl_isa();
#endif

// Switches OpenBLAS to its AVX-512 kernels when it runs narrower ones on a
// CPU with AVX-512 that it does not recognise (runtime/gemm/openblas_core.cpp).
// Idempotent and cheap after the first call.
void ensure_openblas_full_isa();

// Adds the bias row to each of the m rows of C (row stride ldc), then
// applies ReLU when asked: the epilogue of backends that do not fuse it.
template <class T>
void add_bias_rows(const Desc& d, const T* __restrict__ bias, T* __restrict__ c) {
  const std::size_t m = static_cast<std::size_t>(d.m), n = static_cast<std::size_t>(d.n),
                    ldc = static_cast<std::size_t>(d.ldc);
  const bool relu = d.epilogue == Epilogue::bias_relu;
  for (std::size_t r = 0; r < m; ++r) {
    T* __restrict__ row = c + r * ldc;
    if (relu)
      for (std::size_t j = 0; j < n; ++j) {
        T v = row[j] + bias[j];
        row[j] = v < T(0) ? T(0) : v;
      }
    else
      for (std::size_t j = 0; j < n; ++j) row[j] += bias[j];
  }
}

// Writes the bias row into each row of C: a backend that accumulates
// (beta = 1) then adds the product onto it, one pass over C in all. A dense
// C is filled by doubling what is already written, a few large copies: a copy
// per row costs a library call each, which for logistic regression's 1,257
// rows of 10 took longer than the rest of the epilogue.
template <class T>
void fill_bias_rows(const Desc& d, const T* __restrict__ bias, T* __restrict__ c) {
  const std::size_t m = static_cast<std::size_t>(d.m), n = static_cast<std::size_t>(d.n),
                    ldc = static_cast<std::size_t>(d.ldc);
  if (ldc == n) {
    std::memcpy(c, bias, n * sizeof(T));
    const std::size_t total = m * n;
    for (std::size_t filled = n; filled < total;) {
      const std::size_t chunk = std::min(filled, total - filled);
      std::memcpy(c + filled, c, chunk * sizeof(T));
      filled += chunk;
    }
    return;
  }
  for (std::size_t r = 0; r < m; ++r) {
    T* __restrict__ row = c + r * ldc;
    for (std::size_t j = 0; j < n; ++j) row[j] = bias[j];
  }
}

template <class T>
void relu_rows(const Desc& d, T* __restrict__ c) {
  const std::size_t m = static_cast<std::size_t>(d.m), n = static_cast<std::size_t>(d.n),
                    ldc = static_cast<std::size_t>(d.ldc);
  for (std::size_t r = 0; r < m; ++r) {
    T* __restrict__ row = c + r * ldc;
    for (std::size_t j = 0; j < n; ++j) row[j] = row[j] < T(0) ? T(0) : row[j];
  }
}

}  // namespace kiln::gemm::detail
