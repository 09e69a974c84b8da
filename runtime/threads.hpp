#pragma once

namespace kiln {

// How many threads the kernels may use. Today only the GEMMs run threaded
// (inside OpenBLAS); with another CBLAS the setting is accepted and ignored.
// Process-wide, like the BLAS setting it wraps. Throws kiln::Error for n < 1.
void set_threads(int n);
// The current setting (the BLAS default, usually the core count, until set).
// A BlasThreadLimit in force does not change it.
int threads();

// While it lives, OpenBLAS runs on at most `n` threads; then it is back to
// what it was. For one GEMM too small to gain from more threads than their
// hand-off costs (runtime/gemm/choice.hpp measures which). OpenBLAS keeps its
// thread pool: the switch only sets its thread count, two calls of a few
// nanoseconds, and allocates nothing. Not for use from two threads at once.
class BlasThreadLimit {
 public:
  explicit BlasThreadLimit(int n);
  ~BlasThreadLimit();
  BlasThreadLimit(const BlasThreadLimit&) = delete;
  BlasThreadLimit& operator=(const BlasThreadLimit&) = delete;

 private:
  int restore_ = 0;  // 0: nothing was changed
};

}  // namespace kiln
