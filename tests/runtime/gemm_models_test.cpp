// The seed models train the same through every GEMM backend: compile + Plan
// with the backend forced, 50 SGD steps on the same batches, losses within
// 1e-5 (relative) of the CBLAS run at every step.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "frontends/models.hpp"
#include "runtime/gemm/choice.hpp"
#include "runtime/plan.hpp"
#include "tests/runtime/gemm_support.hpp"
#include "tests/runtime/plan_support.hpp"

using namespace kiln;

namespace {

std::vector<double> losses(const std::string& model, gemm::Policy policy, bool fuse) {
  test::PrivateGemmCache cache(policy);
  ModelOptions mo;
  mo.batch = 32;
  Graph g = build_model(model, mo);
  PlanOptions options;
  options.compile.fuse = fuse;
  options.optimizer = OptimizerOptions{};
  options.seed = 3;
  Plan plan = compile(g, options);
  std::vector<double> out;
  for (int step = 0; step < 50; ++step) {
    // A new batch every 5 steps, the same for every backend.
    if (step % 5 == 0)
      for (const auto& [name, value] : test::random_feeds(g, 100 + static_cast<std::uint64_t>(step)))
        plan.feed(name, value);
    out.push_back(plan.step());
  }
  return out;
}

}  // namespace

TEST_CASE("gemm: the seed models give the same losses through every backend", "[gemm][models]") {
  for (const std::string& model : model_names())
    for (bool fuse : {true, false}) {
      const std::vector<double> reference = losses(model, gemm::Policy::blas, fuse);
      for (gemm::Backend b : gemm::compiled_backends()) {
        if (b == gemm::Backend::blas) continue;
        const std::vector<double> got = losses(model, gemm::parse_policy(gemm::backend_name(b)), fuse);
        INFO(model << (fuse ? " fused" : " unfused") << " through " << gemm::backend_name(b));
        for (std::size_t s = 0; s < reference.size(); ++s) {
          INFO("step " << s << ": " << got[s] << " vs blas " << reference[s]);
          REQUIRE(std::isfinite(got[s]));
          CHECK(std::abs(got[s] - reference[s]) <= 1e-5 * std::abs(reference[s]));
        }
      }
    }
}
