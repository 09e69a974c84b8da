// The allocation counter must see every route to the heap that a plan step
// could take, or "zero allocations" would prove nothing.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <vector>

#include "allocation_counter.hpp"
#include "runtime/tensor.hpp"

namespace {

// Stores through a volatile pointer so the compiler cannot drop the
// allocation it came from.
void* volatile escaped = nullptr;

}  // namespace

TEST_CASE("allocation counter: sees new, vector, aligned_alloc, malloc and Tensor", "[alloc_hook]") {
  if (!kiln::testing::AllocationCounter::available()) {
    WARN("the allocation counter is not installed in this build (sanitizer or non-glibc)");
    return;
  }
  {
    kiln::testing::AllocationCounter counter;
    CHECK(counter.allocations() == 0);
  }
  {
    kiln::testing::AllocationCounter counter;
    int* p = new int(7);
    escaped = p;
    delete p;
    CHECK(counter.allocations() == 1);
    CHECK(counter.frees() == 1);
  }
  {
    kiln::testing::AllocationCounter counter;
    std::vector<double> v(100, 1.0);
    escaped = v.data();
    CHECK(counter.allocations() == 1);
  }
  {
    kiln::testing::AllocationCounter counter;
    void* p = std::aligned_alloc(64, 256);
    escaped = p;
    std::free(p);
    void* q = std::malloc(10);
    escaped = q;
    std::free(q);
    CHECK(counter.allocations() == 2);
  }
  {
    kiln::testing::AllocationCounter counter;
    kiln::Tensor t(kiln::Shape{4, 4}, kiln::DType::f32);
    escaped = t.raw();
    CHECK(counter.allocations() >= 1);
  }
}
