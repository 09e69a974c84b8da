// A preloadable library (LD_PRELOAD) exposing tests/alloc_hook's allocation
// counter to Python through ctypes, so that a test can count the heap
// allocations a loop of Plan.step() calls makes inside the interpreter.
#include <cstddef>
#include <memory>

#include "../alloc_hook/allocation_counter.hpp"

namespace {
std::unique_ptr<kiln::testing::AllocationCounter> window;
}

extern "C" {
int kiln_allocation_counter_available() { return kiln::testing::AllocationCounter::available() ? 1 : 0; }
void kiln_allocation_counter_open() { window = std::make_unique<kiln::testing::AllocationCounter>(); }
// The allocations since the window opened; closes it.
std::size_t kiln_allocation_counter_close() {
  const std::size_t n = window ? window->allocations() : 0;
  window.reset();
  return n;
}
}
