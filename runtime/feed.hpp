#pragma once
#include <cstdint>
#include <string_view>

#include "graph/graph.hpp"
#include "runtime/tensor.hpp"

namespace kiln {

// Checks that `value` may be fed to node `id`: the node is a leaf (input,
// labels, param or constant), `value` has exactly its shape and dtype, and
// labels are class ids in [0, classes). Throws kiln::Error naming the node,
// the expected and the found type, or the offending row.
void check_feed(const Graph& g, NodeId id, const Tensor& value);

// Throws kiln::Error naming `who` and the first row whose class id is
// outside [0, classes).
void check_labels(const Tensor& labels, std::int64_t classes, std::string_view who);

}  // namespace kiln
