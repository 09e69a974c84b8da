#pragma once
// What a compiled plan will allocate, known before it allocates anything:
// kiln::compile refuses a plan that would not fit (PlanOptions::max_memory_bytes)
// instead of letting the OS kill the process halfway through.
#include <cstddef>
#include <string>
#include <string_view>

#include "graph/error.hpp"
#include "graph/graph.hpp"
#include "passes/memory_plan.hpp"

namespace kiln {

struct PlanMemory {
  std::size_t arena_bytes = 0;   // the activation arena (fed slots included)
  std::size_t lower_bound = 0;   // the most arena bytes live at one step
  std::size_t naive_bytes = 0;   // every arena buffer on its own
  std::size_t scratch_bytes = 0; // kernels' scratch ranges, part of the arena (MemoryPlan::scratch)
  std::size_t fed_bytes = 0;     // the input and labels slots, part of the arena
  std::size_t param_bytes = 0;   // the model's params (the parameter store)
  std::size_t optimizer_state_bytes = 0;  // "opt/..." params: moments, velocities, step counts
  std::size_t constant_bytes = 0;         // constants the plan keeps outside the arena

  // Everything the plan allocates: arena + params + optimizer state +
  // constants. Params of a shared store count too (they are in memory).
  std::size_t total_bytes() const;
  // lower_bound / arena_bytes; 1 for an empty arena.
  double efficiency() const;
  // "3.2 GiB (arena 2.9 GiB incl. fed inputs 1.2 MiB, params 200 MiB,
  // optimizer state 0 B, constants 8 B)"
  std::string summary() const;
};

// The memory a Plan for `compiled` (the graph after the pipeline and the
// optimizer pass) with `memory` as its arena plan needs. A param counts as
// optimizer state when it has Role::update (OptimizerOptions' "opt/..."
// params). Every param and constant of the graph counts, scheduled or not,
// because the Plan holds them all.
PlanMemory plan_memory_needs(const Graph& compiled, const MemoryPlan& memory);

// Thrown by kiln::compile when a plan needs more than its memory limit, as
// its own type so that a binding can tell it from bad input (Python raises
// MemoryError for it).
class MemoryLimitExceeded : public Error {
 public:
  using Error::Error;
};

// Half of physical memory (sysconf(_SC_PHYS_PAGES) · _SC_PAGE_SIZE): the
// limit when PlanOptions::max_memory_bytes is 0. 8 GiB when the system does
// not say.
std::size_t default_max_memory_bytes();

// "1.5 GiB", "200 MiB", "12 KiB", "512 B" (binary units, one decimal).
std::string format_bytes(std::size_t bytes);

// A size as the command line writes it: "1073741824", "512K", "512M", "2G",
// "1.5G", "1T" (binary multiples; an optional trailing "B" or "iB", any
// case). Throws kiln::Error naming the text when it is not a positive size
// or overflows 64 bits.
std::size_t parse_byte_size(std::string_view text);

}  // namespace kiln
