#pragma once
#include <vector>

#include "graph/dot.hpp"
#include "passes/memory_plan.hpp"

namespace kiln {

// What a DOT picture of a scheduled graph says about each node, beyond its
// name, op and shape (the title is left to the caller):
//   scheduled nodes "step 12"; an update that overwrites a param in place
//                   also "writes W in place";
//   params          "param store, 313600 B"; constants "constant, 4 B";
//   the rest        "not scheduled" (nodes nothing the step keeps needs).
// With a memory plan, every arena node also gets "offset 1024, 512 B", plus
// "in place of X" when it takes over an operand's buffer, "written at step S
// by Y" for a get_output node, "fed" for inputs and labels, "kept to the
// end" for the loss, gradients and outputs; and each in-place chain (the
// nodes sharing one buffer) is drawn as one cluster, "buffer @1024, 512 B".
// A fused node outside any chain gets its own cluster, "fused <op>".
// Used by the pipeline's DOT dump after schedule and memory_plan, and by
// runtime/plan_dot.hpp for `kiln dot --stage planned`.
DotOptions schedule_dot_options(const Graph& g, const std::vector<NodeId>& order, const MemoryPlan* memory = nullptr);

}  // namespace kiln
