#pragma once
// Counts heap allocations made by any thread while a counting window is
// open: proof that a loop allocates nothing, not a profiler.
//
// The test binary defines malloc, calloc, realloc, free, aligned_alloc,
// posix_memalign and memalign itself, forwarding to glibc's own entry points
// (__libc_malloc, ...). A definition in the executable takes precedence for
// every shared library too, so the count covers operator new (libstdc++
// calls malloc), Tensor's aligned_alloc and allocations inside OpenBLAS.
// What it cannot see: glibc's calls to its own malloc from inside libc
// (fopen, strdup, ...). Sanitizer runtimes interpose malloc themselves, so
// under a sanitizer the counter is not installed (available() is false).
#include <cstddef>

namespace kiln::testing {

class AllocationCounter {
 public:
  // Opens the window; windows do not nest.
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;

  // Allocation calls (any of the functions above, including a realloc)
  // since the window opened.
  std::size_t allocations() const;
  std::size_t frees() const;

  static bool available();
};

}  // namespace kiln::testing
