// step() makes no heap allocation: counted by the test binary's malloc
// interposer (tests/alloc_hook), which also sees operator new, aligned_alloc
// and OpenBLAS's own allocations.
//
// Which GEMM backend a plan gets depends on the machine (a measurement picks
// it), so the promise is checked once per backend forced and once for the
// measured mix, on whatever CPU runs the suite. Each check also counts the
// plan's GEMMs run alone, through the same backends: kiln's own part of a
// step must add nothing to that, and for every backend the automatic choice
// may pick, that must itself be nothing. oneDNN 2.6, which the automatic
// choice never picks, allocates inside each execute(); forced, its step
// allocates exactly what its GEMMs do, and not one allocation more.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "frontends/models.hpp"
#include "plan_support.hpp"
#include "runtime/gemm/plan_gemms.hpp"
#include "runtime/plan.hpp"
#include "runtime/threads.hpp"
#include "tests/alloc_hook/allocation_counter.hpp"
#include "tests/runtime/gemm_support.hpp"

namespace {

using kiln::gemm::Policy;

constexpr int kSteps = 10;

// Debian's OpenBLAS mallocs a job array on every GEMM it splits across
// threads (level3_thread.c, USE_ALLOC_HEAP); kiln's own step allocates
// nothing, which one thread shows. Restores the setting when done.
struct OneThread {
  int before = kiln::threads();
  OneThread() { kiln::set_threads(1); }
  ~OneThread() { kiln::set_threads(before); }
};

// Allocations made by `passes` passes over the plan's GEMMs alone, each
// prepared as the plan prepared it (backend and thread count), on scratch
// operands.
std::size_t gemm_only_allocations(const kiln::Plan& plan, int passes) {
  struct Ready {
    std::unique_ptr<kiln::gemm::Prepared> gemm;
    std::vector<double> a, b, c, bias;  // sized for either dtype
  };
  std::vector<Ready> ready;
  for (const kiln::gemm::PlanGemm& g : kiln::gemm::plan_gemms(plan)) {
    const kiln::gemm::Desc& d = g.desc;
    Ready r;
    r.gemm = kiln::gemm::try_prepare(d, g.choice.backend, g.choice.max_threads());
    if (!r.gemm) r.gemm = kiln::gemm::try_prepare(d, kiln::gemm::Backend::blas, g.choice.max_threads());
    r.a.assign(static_cast<std::size_t>((d.transpose_a ? d.k : d.m) * d.lda), 0.5);
    r.b.assign(static_cast<std::size_t>((d.transpose_b ? d.n : d.k) * d.ldb), 0.25);
    r.c.assign(static_cast<std::size_t>(d.m * d.ldc), 0.0);
    r.bias.assign(static_cast<std::size_t>(d.n), 1.0);
    r.gemm->run(r.a.data(), r.b.data(), r.bias.data(), r.c.data());  // set-up, as the plan's warm-up step
    ready.push_back(std::move(r));
  }
  kiln::testing::AllocationCounter counter;
  for (int pass = 0; pass < passes; ++pass)
    for (Ready& r : ready) r.gemm->run(r.a.data(), r.b.data(), r.bias.data(), r.c.data());
  return counter.allocations();
}

// Steps of every seed model, fused and unfused, with SGD; a training loop
// writes each batch straight into the arena between steps.
void check_seed_models(Policy policy) {
  kiln::test::PrivateGemmCache cache(policy);
  OneThread one_thread;
  for (const std::string& model : kiln::model_names())
    for (bool fuse : {true, false}) {
      INFO(model << (fuse ? " fused" : " unfused") << ", GEMM policy " << kiln::gemm::policy_name(policy));
      kiln::ModelOptions mo;
      mo.batch = 32;
      kiln::Graph g = kiln::build_model(model, mo);
      kiln::PlanOptions options;
      options.compile.fuse = fuse;
      options.optimizer = kiln::OptimizerOptions{};
      kiln::Plan plan = kiln::compile(g, options);
      for (const auto& [name, value] : kiln::test::random_feeds(g, 9)) plan.feed(name, value);
      float* x = plan.input_buffer("x");
      std::int32_t* y = plan.labels_buffer("y");
      plan.step();  // warm-up: lets OpenBLAS set up its buffers and threads
      plan.step();

      double loss_sum = 0;
      std::size_t allocations = 0;
      {
        kiln::testing::AllocationCounter counter;
        for (int s = 0; s < kSteps; ++s) {
          for (std::size_t i = 0; i < 32; ++i) {
            x[i] = static_cast<float>(s) * 0.01f;
            y[i] = static_cast<std::int32_t>((i + static_cast<std::size_t>(s)) % 2);
          }
          loss_sum += plan.step();
        }
        allocations = counter.allocations();
      }
      INFO(kiln::gemm::choice_table(kiln::gemm::plan_gemms(plan)));
      CHECK(allocations == gemm_only_allocations(plan, kSteps));
      if (policy != Policy::dnnl) CHECK(allocations == 0);
      CHECK(std::isfinite(loss_sum));
    }
}

void check_momentum_and_adam(Policy policy) {
  kiln::test::PrivateGemmCache cache(policy);
  OneThread one_thread;
  for (auto kind : {kiln::OptimizerOptions::Kind::momentum, kiln::OptimizerOptions::Kind::adam})
    for (const char* model : {"spiral-net", "mlp"}) {
      kiln::ModelOptions mo;
      mo.batch = 32;
      kiln::Graph g = kiln::build_model(model, mo);
      kiln::PlanOptions options;
      options.optimizer = kiln::OptimizerOptions{};
      options.optimizer->kind = kind;
      kiln::Plan plan = kiln::compile(g, options);
      for (const auto& [name, value] : kiln::test::random_feeds(g, 2)) plan.feed(name, value);
      plan.step();
      std::size_t allocations = 0;
      {
        kiln::testing::AllocationCounter counter;
        for (int s = 0; s < kSteps; ++s) plan.step();
        allocations = counter.allocations();
      }
      INFO(model << ", " << kiln::optimizer_name(kind) << ", GEMM policy " << kiln::gemm::policy_name(policy));
      CHECK(allocations == gemm_only_allocations(plan, kSteps));
      if (policy != Policy::dnnl) CHECK(allocations == 0);
    }
}

bool can_count() {
  if (kiln::testing::AllocationCounter::available()) return true;
  WARN("the allocation counter is not installed in this build (sanitizer or non-glibc): nothing to count");
  return false;
}

// A policy whose backend this build lacks (libxsmm, oneDNN are optional).
bool compiled(Policy policy) {
  if (policy == Policy::automatic) return true;
  auto backend = kiln::gemm::backend_from_name(kiln::gemm::policy_name(policy));
  if (backend && kiln::gemm::backend_compiled(*backend)) return true;
  WARN("this build has no " << kiln::gemm::policy_name(policy) << " backend: nothing to check");
  return false;
}

void check_policy(Policy policy) {
  if (!can_count() || !compiled(policy)) return;
  check_seed_models(policy);
  check_momentum_and_adam(policy);
}

}  // namespace

TEST_CASE("plan: step() allocates nothing with the measured GEMM mix", "[plan][alloc]") {
  check_policy(Policy::automatic);
}

TEST_CASE("plan: step() allocates nothing with every GEMM forced to blas", "[plan][alloc]") {
  check_policy(Policy::blas);
}

TEST_CASE("plan: step() allocates nothing with every GEMM forced to xsmm", "[plan][alloc]") {
  check_policy(Policy::xsmm);
}

TEST_CASE("plan: step() allocates nothing with every GEMM forced to direct", "[plan][alloc]") {
  check_policy(Policy::direct);
}

TEST_CASE("plan: step() adds no allocation to oneDNN's own when forced to dnnl", "[plan][alloc]") {
  check_policy(Policy::dnnl);
}
