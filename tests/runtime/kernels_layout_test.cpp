// reshape is free (no second buffer, no copy) when its operand dies at it;
// its values are checked bit for bit by the op table (tests/ops).
#include "tests/runtime/harness.hpp"

#include "frontends/builder.hpp"
#include "runtime/plan.hpp"

using namespace kiln;
using namespace kiln::test;

TEST_CASE("a reshape whose operand dies there shares its buffer, one it must not overwrite it copies",
          "[runtime][reshape][memory]") {
  Builder g;
  Value x = g.input("x", {4, 2, 3});
  Value h = relu(x, "h");
  reshape(h, {0, -1}, "flat");
  reshape(x, {-1}, "kept");  // x is fed: the caller's buffer, never taken over
  PlanOptions options;
  options.compile.differentiate = false;
  options.compile.outputs = {"flat", "kept"};
  Plan plan = compile(g.graph(), options);

  const BufferPlan& flat_buffer = plan.memory().buffer(plan.graph().at("flat"));
  REQUIRE(flat_buffer.reuses.has_value());
  CHECK(plan.graph()[*flat_buffer.reuses].name == "h");
  CHECK_FALSE(plan.memory().buffer(plan.graph().at("kept")).reuses.has_value());

  std::mt19937 rng(17);
  Tensor xv = random_tensor({4, 2, 3}, DType::f32, rng);
  plan.feed("x", xv);
  plan.run();
  const std::vector<double> xs = xv.values();
  const std::vector<double> flat_values = plan.value("flat").values();
  const std::vector<double> kept_values = plan.value("kept").values();
  CHECK(*plan.value("flat").shape == Shape{4, 6});
  REQUIRE(flat_values.size() == xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    CHECK(flat_values[i] == (xs[i] > 0 ? xs[i] : 0.0));
    CHECK(kept_values[i] == xs[i]);
  }
}
