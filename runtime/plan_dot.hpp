#pragma once
#include "graph/dot.hpp"
#include "runtime/plan.hpp"

namespace kiln {

// What `kiln dot --stage planned` draws over plan.graph(): the title is the
// memory plan's summary; the rest is passes/schedule_dot.hpp's
// schedule_dot_options over the plan's order and memory plan (also what the
// pipeline's DOT dump after memory_plan shows). Every node gets extra lines
// saying where its value lives during the step —
//   arena nodes     "step 12", "offset 1024, 512 B", plus "in place of X"
//                   when it takes over an operand's buffer, "fed" for inputs
//                   and labels, "kept to the end" for the loss, gradients
//                   and outputs;
//   updates         "step 40", "writes W in place";
//   params          "param store, 313600 B"; constants "constant, 4 B";
//   the rest        "not scheduled" (nodes nothing the step keeps needs);
// and each in-place chain (the nodes sharing one buffer) is drawn as one
// cluster, "buffer @1024, 512 B"; a fused node outside any chain gets its
// own cluster, "fused <op>".
DotOptions planned_dot_options(const Plan& plan);

}  // namespace kiln
