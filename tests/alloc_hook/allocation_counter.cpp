#include "allocation_counter.hpp"

#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KILN_ALLOCATION_COUNTER 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define KILN_ALLOCATION_COUNTER 0
#endif
#endif
#ifndef KILN_ALLOCATION_COUNTER
#if defined(__GLIBC__)
#define KILN_ALLOCATION_COUNTER 1
#else
#define KILN_ALLOCATION_COUNTER 0
#endif
#endif

namespace {

// Plain globals with constant initialisation: malloc runs before any
// constructor, so nothing here may need one.
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocation_calls{0};
std::atomic<std::size_t> free_calls{0};

inline void note_allocation() {
  if (counting.load(std::memory_order_relaxed)) allocation_calls.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

#if KILN_ALLOCATION_COUNTER
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t size) noexcept {
  note_allocation();
  return __libc_malloc(size);
}

void* calloc(std::size_t n, std::size_t size) noexcept {
  note_allocation();
  return __libc_calloc(n, size);
}

void* realloc(void* p, std::size_t size) noexcept {
  note_allocation();
  return __libc_realloc(p, size);
}

void free(void* p) noexcept {
  if (p && counting.load(std::memory_order_relaxed)) free_calls.fetch_add(1, std::memory_order_relaxed);
  __libc_free(p);
}

void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  note_allocation();
  return __libc_memalign(alignment, size);
}

void* memalign(std::size_t alignment, std::size_t size) noexcept {
  note_allocation();
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  note_allocation();
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}  // extern "C"
#endif

namespace kiln::testing {

AllocationCounter::AllocationCounter() {
  allocation_calls.store(0);
  free_calls.store(0);
  counting.store(true);
}

AllocationCounter::~AllocationCounter() { counting.store(false); }

std::size_t AllocationCounter::allocations() const { return allocation_calls.load(); }
std::size_t AllocationCounter::frees() const { return free_calls.load(); }

bool AllocationCounter::available() { return KILN_ALLOCATION_COUNTER != 0; }

}  // namespace kiln::testing
