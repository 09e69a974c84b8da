#pragma once
#include "graph/graph.hpp"

namespace kiln {

// Checks the invariants every pass must keep: valid unique names, operand
// counts, shapes and dtypes that agree with each op's rule, no cycle, and a
// scalar loss. Throws kiln::Error naming the first offending node.
void verify(const Graph& g);

}  // namespace kiln
