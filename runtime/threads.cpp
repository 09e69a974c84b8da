#include "runtime/threads.hpp"

#include <atomic>
#include <string>

#include "graph/error.hpp"

// Weak: resolved only when the CBLAS that FindBLAS chose is OpenBLAS, so the
// build links against any CBLAS.
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads() __attribute__((weak));
}

namespace kiln {
namespace {

int blas_threads_now() { return openblas_get_num_threads ? openblas_get_num_threads() : 1; }

// Kept here rather than read back from OpenBLAS, whose count a
// BlasThreadLimit lowers for a moment; 0 until set or first read.
std::atomic<int> setting{0};

}  // namespace

void set_threads(int n) {
  if (n < 1) throw Error("threads must be at least 1, got " + std::to_string(n));
  if (openblas_set_num_threads) openblas_set_num_threads(n);
  setting.store(openblas_set_num_threads ? n : 1);
}

int threads() {
  int n = setting.load();
  if (n == 0) {
    n = blas_threads_now();
    setting.store(n);
  }
  return n;
}

BlasThreadLimit::BlasThreadLimit(int n) {
  if (!openblas_set_num_threads) return;
  const int now = blas_threads_now();
  if (n >= 1 && now > n) {
    openblas_set_num_threads(n);
    restore_ = now;
  }
}

BlasThreadLimit::~BlasThreadLimit() {
  if (restore_ != 0) openblas_set_num_threads(restore_);
}

}  // namespace kiln
