#pragma once
// Scratch memory of kernel calls: how much working memory a kernel needs,
// known when the plan is compiled, so that the memory planner places it in
// the arena (MemoryOptions::scratch_bytes) and a step allocates nothing.
#include <cstddef>
#include <span>

#include "graph/graph.hpp"
#include "graph/op.hpp"
#include "runtime/tensor.hpp"

namespace kiln {

// Bytes of scratch the kernel of `op` needs for one call with these operand
// and output types (data pointers unused) and attributes; 0 for most ops.
// One entry per op of graph/ops.def (runtime/kernel_scratch.cpp).
std::size_t kernel_scratch_bytes(OpKind op, std::span<const TensorRef> inputs, const TensorRef& out,
                                 const Attrs& attrs);

// kernel_scratch_bytes() for node `id` of `g`, from its operands' and its own
// shapes and dtypes: what runtime/compile.cpp hands the memory planner. 0 for
// leaves and get_output nodes, which run no kernel of their own.
std::size_t node_scratch_bytes(const Graph& g, NodeId id);

}  // namespace kiln
