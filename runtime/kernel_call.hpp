#pragma once
#include <memory>

#include "graph/dtype.hpp"
#include "graph/node.hpp"
#include "graph/shape.hpp"

namespace kiln {

namespace gemm {
class Prepared;
}
class Communicator;

// The allreduce kernels' link to the plan's communicator: an allreduce_start
// and its allreduce_wait share one slot, owned by the plan, in which the
// start leaves the request the wait completes.
struct CollectiveSlot {
  Communicator* comm = nullptr;
  int request = -1;
};

// Operands one kernel call reads. Every op has at most 3 operands except
// add_n, which has any number: bind_kernel() splits an add_n with more than
// this many operands into a chain of calls, each accumulating into the output,
// so a KernelCall stays a small self-contained value with no pointer to
// storage owned elsewhere than the tensors and the graph.
inline constexpr int kMaxKernelInputs = 4;
// Outputs beyond the first that a multi-output node's kernel writes.
inline constexpr int kMaxExtraOutputs = 1;

// Everything a kernel needs, resolved before the step runs: no lookup, no
// allocation and no dispatch on names happen inside a kernel.
struct KernelCall {
  const void* in[kMaxKernelInputs] = {};
  const Shape* in_shape[kMaxKernelInputs] = {};
  DType in_dtype[kMaxKernelInputs] = {};
  int n_in = 0;
  void* out = nullptr;
  const Shape* out_shape = nullptr;
  DType dtype = DType::f32;  // of the output
  // Outputs 1, 2, ... of a multi-output node (Node::extra_outputs); nullptr
  // where no one reads that output, and the kernel then skips it.
  void* extra_out[kMaxExtraOutputs] = {};
  const Attrs* attrs = nullptr;
  // matmul, affine, affine_relu: the GEMM that bind_kernel() prepared on the
  // backend chosen for this shape (runtime/gemm/choice.hpp); a call made
  // without one runs through CBLAS. gemm_owner keeps it alive while any copy
  // of the call (a plan's call list) does.
  const gemm::Prepared* gemm = nullptr;
  std::shared_ptr<const gemm::Prepared> gemm_owner;
  // allreduce_start, allreduce_wait: set by the plan that binds them
  // (Plan::State::bind_calls); nullptr elsewhere.
  CollectiveSlot* collective = nullptr;
};

using Kernel = void (*)(const KernelCall&);

}  // namespace kiln
