#include "runtime/plan_dot.hpp"

#include <string>

#include "passes/schedule_dot.hpp"

namespace kiln {

DotOptions planned_dot_options(const Plan& plan) {
  DotOptions dot = schedule_dot_options(plan.graph(), plan.order(), &plan.memory());
  dot.title = "planned: " + std::to_string(plan.order().size()) + " steps, " + std::to_string(plan.kernel_calls()) +
              " kernel calls; " + plan.memory().summary();
  return dot;
}

}  // namespace kiln
