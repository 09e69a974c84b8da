#include "runtime/threads.hpp"

#include <string>

#include "graph/error.hpp"

// Weak: resolved only when the CBLAS that FindBLAS chose is OpenBLAS, so the
// build links against any CBLAS.
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads() __attribute__((weak));
}

namespace kiln {

void set_threads(int n) {
  if (n < 1) throw Error("threads must be at least 1, got " + std::to_string(n));
  if (openblas_set_num_threads) openblas_set_num_threads(n);
}

int threads() { return openblas_get_num_threads ? openblas_get_num_threads() : 1; }

}  // namespace kiln
