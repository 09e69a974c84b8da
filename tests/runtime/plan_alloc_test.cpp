// step() makes no heap allocation: counted by the test binary's malloc
// interposer (tests/alloc_hook), which also sees operator new, aligned_alloc
// and OpenBLAS's own allocations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "frontends/models.hpp"
#include "plan_support.hpp"
#include "runtime/plan.hpp"
#include "runtime/threads.hpp"
#include "tests/alloc_hook/allocation_counter.hpp"

namespace {

// Debian's OpenBLAS mallocs a job array on every GEMM it splits across
// threads (level3_thread.c, USE_ALLOC_HEAP); kiln's own step allocates
// nothing, which one thread shows. Restores the setting when done.
struct OneThread {
  int before = kiln::threads();
  OneThread() { kiln::set_threads(1); }
  ~OneThread() { kiln::set_threads(before); }
};

}  // namespace

TEST_CASE("plan: step() allocates nothing on the heap in any seed model", "[plan][alloc]") {
  if (!kiln::testing::AllocationCounter::available()) {
    WARN("the allocation counter is not installed in this build (sanitizer or non-glibc): nothing to count");
    return;
  }
  OneThread one_thread;
  for (const std::string& model : kiln::model_names())
    for (bool fuse : {true, false}) {
      INFO(model << (fuse ? " fused" : " unfused"));
      kiln::ModelOptions mo;
      mo.batch = 32;
      kiln::Graph g = kiln::build_model(model, mo);
      kiln::PlanOptions options;
      options.compile.fuse = fuse;
      options.optimizer = kiln::OptimizerOptions{};
      kiln::Plan plan = kiln::compile(g, options);
      kiln::test::Feeds feeds = kiln::test::random_feeds(g, 9);
      for (const auto& [name, value] : feeds) plan.feed(name, value);
      float* x = plan.input_buffer("x");
      std::int32_t* y = plan.labels_buffer("y");
      plan.step();  // warm-up: lets OpenBLAS set up its buffers and threads
      plan.step();

      double loss_sum = 0;
      std::size_t allocations = 0;
      {
        kiln::testing::AllocationCounter counter;
        for (int s = 0; s < 10; ++s) {
          // A training loop writes the next batch straight into the arena.
          for (std::size_t i = 0; i < 32; ++i) {
            x[i] = static_cast<float>(s) * 0.01f;
            y[i] = static_cast<std::int32_t>((i + static_cast<std::size_t>(s)) % 2);
          }
          loss_sum += plan.step();
        }
        allocations = counter.allocations();
      }
      CHECK(allocations == 0);
      CHECK(std::isfinite(loss_sum));
    }
}

TEST_CASE("plan: Adam and momentum steps allocate nothing either", "[plan][alloc]") {
  if (!kiln::testing::AllocationCounter::available()) {
    WARN("the allocation counter is not installed in this build (sanitizer or non-glibc): nothing to count");
    return;
  }
  OneThread one_thread;
  for (auto kind : {kiln::OptimizerOptions::Kind::momentum, kiln::OptimizerOptions::Kind::adam}) {
    kiln::Graph g = kiln::build_model("spiral-net");
    kiln::PlanOptions options;
    options.optimizer = kiln::OptimizerOptions{};
    options.optimizer->kind = kind;
    kiln::Plan plan = kiln::compile(g, options);
    for (const auto& [name, value] : kiln::test::random_feeds(g, 2)) plan.feed(name, value);
    plan.step();
    std::size_t allocations = 0;
    {
      kiln::testing::AllocationCounter counter;
      for (int s = 0; s < 10; ++s) plan.step();
      allocations = counter.allocations();
    }
    INFO(kiln::optimizer_name(kind));
    CHECK(allocations == 0);
  }
}
