// Which OpenBLAS calls would allocate on the heap, read off Debian's
// libopenblas 0.3.21 (DYNAMIC_ARCH) by disassembly rather than guessed:
//
// - interface/gemm.c sends a product to a "small-matrix" kernel when the
//   core's permit function says so. Only the AVX-512 cores have such kernels
//   (SkylakeX and Cooperlake in 0.3.21; SapphireRapids, added later, shares
//   them); every other core's permit returns 0. The permit needs
//   M·N·K ≤ 1e6 (in OpenBLAS's column-major terms), and further conditions
//   for transposed A that do not matter here.
// - Of the small kernels (nn, nt, tn, tt, each with a beta = 0 twin), only
//   the column-major NN pair calls malloc: for the rows left over after the
//   16-row (f32) or 8-row (f64) blocks, when 1–8 (f32) or 1–4 (f64) rows are
//   left and K ≥ 32 (f32) or K ≥ 16 (f64), it copies those rows of A into a
//   freshly malloc'ed buffer to walk K contiguously, and frees it at the end.
//
// kiln's row-major C = op(A)·op(B) reaches OpenBLAS as the column-major
// C' = op(B)'·op(A)': M = n, N = m, K = k, and its NN is kiln's NN.
#include "runtime/gemm/backends.hpp"

namespace kiln::gemm::detail {

bool openblas_core_has_small_kernels(std::string_view core) {
  return core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids";
}

bool openblas_small_kernel_allocates(const Desc& d, std::string_view core) {
  if (!openblas_core_has_small_kernels(core)) return false;
  if (d.transpose_a || d.transpose_b) return false;
  const double mnk = static_cast<double>(d.m) * static_cast<double>(d.n) * static_cast<double>(d.k);
  if (mnk > 1e6) return false;
  const bool f64 = d.dtype == DType::f64;
  const std::int64_t block = f64 ? 8 : 16, most_left = f64 ? 4 : 8, least_k = f64 ? 16 : 32;
  const std::int64_t left = d.n % block;
  return left >= 1 && left <= most_left && d.k >= least_k;
}

}  // namespace kiln::gemm::detail
