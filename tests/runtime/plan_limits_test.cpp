// What a Plan will allocate, reported before it allocates: the memory
// limit, plan_memory_needs against sums taken straight from the graph, and
// the command line's size syntax.
#include <catch2/catch.hpp>

#include <string>

#include "frontends/models.hpp"
#include "runtime/plan.hpp"
#include "runtime/plan_memory.hpp"

namespace {

kiln::PlanOptions with(kiln::OptimizerOptions::Kind kind) {
  kiln::PlanOptions o;
  kiln::OptimizerOptions opt;
  opt.kind = kind;
  o.optimizer = opt;
  return o;
}

// 784-100-200-10, f32 (frontends/models.hpp).
constexpr std::size_t kMlpParamBytes = (784 * 100 + 100 + 100 * 200 + 200 + 200 * 10 + 10) * 4;

}  // namespace

TEST_CASE("plan_memory_needs counts params optimizer state and the arena as the plan holds them", "[plan][limits]") {
  kiln::Plan sgd = kiln::compile(kiln::build_model("mlp"), with(kiln::OptimizerOptions::Kind::sgd));
  kiln::PlanMemory m = sgd.memory_needs();
  CHECK(m.param_bytes == kMlpParamBytes);
  CHECK(m.optimizer_state_bytes == 0);
  CHECK(m.arena_bytes == sgd.memory().arena_bytes);
  CHECK(m.arena_bytes == sgd.arena().size());
  CHECK(m.lower_bound == sgd.memory().lower_bound);
  CHECK(m.naive_bytes == sgd.memory().naive_bytes);
  // x [32, 784] f32 and y [32] i32, each rounded up to the arena alignment.
  CHECK(m.fed_bytes >= 32 * 784 * 4 + 32 * 4);
  CHECK(m.fed_bytes <= 32 * 784 * 4 + 32 * 4 + 2 * kiln::kArenaAlignment);
  CHECK(m.total_bytes() == m.arena_bytes + m.param_bytes + m.optimizer_state_bytes + m.constant_bytes);
  CHECK(m.efficiency() == Approx(sgd.memory().efficiency()));

  kiln::Plan momentum = kiln::compile(kiln::build_model("mlp"), with(kiln::OptimizerOptions::Kind::momentum));
  CHECK(momentum.memory_needs().param_bytes == kMlpParamBytes);
  CHECK(momentum.memory_needs().optimizer_state_bytes == kMlpParamBytes);  // one velocity per param

  kiln::Plan adam = kiln::compile(kiln::build_model("mlp"), with(kiln::OptimizerOptions::Kind::adam));
  // Two moments per param plus the step count (a scalar, f32 like the params or
  // f64): at least the moments, at most 8 bytes more.
  CHECK(adam.memory_needs().optimizer_state_bytes >= 2 * kMlpParamBytes);
  CHECK(adam.memory_needs().optimizer_state_bytes <= 2 * kMlpParamBytes + 8);
}

TEST_CASE("compile refuses a plan over max_memory_bytes and says what it needs", "[plan][limits]") {
  kiln::PlanOptions options = with(kiln::OptimizerOptions::Kind::sgd);
  const kiln::PlanMemory needs = kiln::compile(kiln::build_model("mlp"), options).memory_needs();

  options.max_memory_bytes = needs.total_bytes() - 1;
  try {
    kiln::compile(kiln::build_model("mlp"), options);
    FAIL("a plan one byte over the limit was compiled");
  } catch (const kiln::Error& e) {
    std::string what = e.what();
    INFO(what);
    CHECK_THAT(what, Catch::StartsWith("the plan needs " + kiln::format_bytes(needs.total_bytes())));
    CHECK_THAT(what, Catch::Contains("arena " + kiln::format_bytes(needs.arena_bytes)));
    CHECK_THAT(what, Catch::Contains("params " + kiln::format_bytes(kMlpParamBytes)));
    CHECK_THAT(what, Catch::Contains("optimizer state 0 B"));
    CHECK_THAT(what, Catch::Contains("but --max-memory allows " + kiln::format_bytes(needs.total_bytes() - 1)));
  }
  options.max_memory_bytes = needs.total_bytes();
  CHECK(kiln::compile(kiln::build_model("mlp"), options).memory_needs().total_bytes() == needs.total_bytes());
}

TEST_CASE("the mlp at batch 10^8 is refused by the default limit before anything is allocated", "[plan][limits]") {
  kiln::ModelOptions huge;
  huge.batch = 100'000'000;
  // The input alone is 10^8 x 784 f32 = 292 GiB; an attempt to allocate it
  // would fail or be killed rather than give this message.
  try {
    kiln::compile(kiln::build_model("mlp", huge), with(kiln::OptimizerOptions::Kind::sgd));
    FAIL("a plan for batch 10^8 was compiled");
  } catch (const kiln::Error& e) {
    std::string what = e.what();
    INFO(what);
    CHECK_THAT(what, Catch::StartsWith("the plan needs "));
    CHECK_THAT(what, Catch::Contains("GiB"));
    CHECK_THAT(what, Catch::Contains("(the default: half of physical memory)"));
  }
  CHECK(kiln::default_max_memory_bytes() > 0);
}

TEST_CASE("parse_byte_size reads bytes and binary multiples and rejects the rest", "[plan][limits]") {
  CHECK(kiln::parse_byte_size("1024") == 1024);
  CHECK(kiln::parse_byte_size("512K") == 512u << 10);
  CHECK(kiln::parse_byte_size("512M") == 512u << 20);
  CHECK(kiln::parse_byte_size("512m") == 512u << 20);
  CHECK(kiln::parse_byte_size("2G") == std::size_t{2} << 30);
  CHECK(kiln::parse_byte_size("2GiB") == std::size_t{2} << 30);
  CHECK(kiln::parse_byte_size("2GB") == std::size_t{2} << 30);
  CHECK(kiln::parse_byte_size("1.5G") == std::size_t{3} << 29);
  CHECK(kiln::parse_byte_size("1T") == std::size_t{1} << 40);
  for (const char* bad : {"", "G", "abc", "-1", "0", "5X", "1.2.3G", "99999999999T"}) {
    INFO(bad);
    CHECK_THROWS_WITH(kiln::parse_byte_size(bad), Catch::Contains("memory size '" + std::string(bad) + "'"));
  }
}

TEST_CASE("format_bytes uses binary units with one decimal", "[plan][limits]") {
  CHECK(kiln::format_bytes(0) == "0 B");
  CHECK(kiln::format_bytes(1023) == "1023 B");
  CHECK(kiln::format_bytes(1024) == "1.0 KiB");
  CHECK(kiln::format_bytes(std::size_t{3} << 29) == "1.5 GiB");
}
