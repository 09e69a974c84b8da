#pragma once
// Matrix products behind one interface, with three implementations: CBLAS
// (OpenBLAS), libxsmm (JIT kernels) and oneDNN (matmul primitives). A GEMM is
// described once, prepared once (when a plan is compiled) into a callable
// that does no allocation and no lookup when it runs, and each shape gets the
// backend a short measurement found fastest on this machine (runtime/gemm/
// choice.hpp).
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/dtype.hpp"

namespace kiln::gemm {

// direct: kiln's own loops for products with k ≤ 4 (runtime/gemm/direct_backend.cpp).
enum class Backend : std::uint8_t { blas, xsmm, dnnl, direct };
inline constexpr int kBackendCount = 4;
inline constexpr Backend kAllBackends[kBackendCount] = {Backend::blas, Backend::xsmm, Backend::dnnl, Backend::direct};
// A per-backend timing table with nothing measured.
inline constexpr std::array<double, kBackendCount> kUnmeasured{-1.0, -1.0, -1.0, -1.0};

// "blas", "xsmm", "dnnl", "direct".
std::string_view backend_name(Backend b);
// The backend named `name`, or nullopt for any other text.
std::optional<Backend> backend_from_name(std::string_view name);
// Whether this build has the backend (libxsmm and oneDNN are optional).
bool backend_compiled(Backend b);
// The backends this build has, in kAllBackends order.
std::vector<Backend> compiled_backends();

// What runs after the product, on each row of C.
enum class Epilogue : std::uint8_t { none, bias, bias_relu };

// C = alpha·op(A)·op(B) + beta·C, then (epilogue) + bias broadcast over the
// rows, then ReLU. All matrices row-major: op(A) is m×k (A stored k×m when
// transpose_a), op(B) is k×n (B stored n×k when transpose_b), C is m×n; the
// leading dimensions are the row strides of the stored matrices (lda ≥ the
// stored A's column count, and so on). A bias epilogue needs beta = 0.
struct Desc {
  DType dtype = DType::f32;
  std::int64_t m = 0, n = 0, k = 0;
  bool transpose_a = false, transpose_b = false;
  std::int64_t lda = 0, ldb = 0, ldc = 0;
  double alpha = 1.0, beta = 0.0;
  Epilogue epilogue = Epilogue::none;

  // The densely packed product of row-major operands, as kiln's matmul does.
  static Desc packed(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, bool transpose_a = false,
                     bool transpose_b = false);
  // One line that names every field; the tuning file's key.
  std::string key() const;
  // "784x100 = (32x784)^T... " style human summary: "m=32 n=100 k=784 NT".
  std::string str() const;
  double flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
  bool operator==(const Desc&) const = default;
};

// Throws kiln::Error naming the field when `d` is not a valid GEMM (a
// dimension < 1 or above the int range, a leading dimension too small, a
// dtype other than f32/f64, a bias epilogue with beta ≠ 0).
void validate(const Desc& d);

// A GEMM ready to run: run() does no allocation and no dispatch lookup. Not
// safe to run from two threads at once (a plan runs one step at a time).
class Prepared {
 public:
  virtual ~Prepared() = default;
  // a, b, c as the Desc describes; bias (n elements) only for a bias epilogue.
  virtual void run(const void* a, const void* b, const void* bias, void* c) const = 0;
  const Desc& desc() const { return desc_; }
  Backend backend() const { return backend_; }
  // The most threads a call uses: the limit it was prepared with, or 0 when
  // it follows the process setting (kiln::threads()). Only blas is limited;
  // xsmm always runs on the calling thread.
  int max_threads() const { return max_threads_; }

 protected:
  Prepared(const Desc& d, Backend b, int max_threads = 0) : desc_(d), backend_(b), max_threads_(max_threads) {}

 private:
  Desc desc_;
  Backend backend_;
  int max_threads_;
};

// The prepared GEMM of `backend`, or nullptr when that backend is not in this
// build or has no kernel for `d` (libxsmm 1.17 has none for A·Bᵀ, oneDNN none
// for f64). Throws kiln::Error for an invalid `d` (see validate).
std::unique_ptr<Prepared> try_prepare(const Desc& d, Backend backend);
// The same, with blas limited to `max_threads` threads per call (0 or less:
// no limit but the process setting): each call lowers OpenBLAS's thread count for its
// duration when the process runs more (kiln::BlasThreadLimit). Small GEMMs
// lose more to OpenBLAS's thread hand-off than they gain. Other backends
// ignore the limit.
std::unique_ptr<Prepared> try_prepare(const Desc& d, Backend backend, int max_threads);

// The instruction set each backend really runs on this CPU, e.g.
// "OpenBLAS 0.3.21 core SkylakeX (switched from Haswell: AVX-512 CPU it does
// not know)", "libxsmm 1.17 target skx", "oneDNN 2.6.3 ISA avx512_core".
std::string backend_isa(Backend b);

}  // namespace kiln::gemm
