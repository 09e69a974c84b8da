#pragma once
#include <cstddef>
#include <memory>
#include <vector>

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

// One tensor a kernel reads.
struct KernelOperand {
  const void* data = nullptr;
  const Shape* shape = nullptr;
  DType dtype = DType::f32;
};

// One output beyond the first that a multi-output kernel writes.
struct KernelOutput {
  void* data = nullptr;  // nullptr where no one reads that output: the kernel skips it
  const Shape* shape = nullptr;
  DType dtype = DType::f32;
};

// Everything a kernel needs, resolved before the step runs: no lookup, no
// allocation and no dispatch on names happen inside a kernel. The operand
// and output lists are vectors filled once by bind_kernel(), so a call takes
// any number of them (add_n sums all its operands in one call, a gradient
// bucket packs all its members) and a step only reads them.
struct KernelCall {
  std::vector<KernelOperand> in;
  // Output 0, the node's own value (most kernels write only this one).
  void* out = nullptr;
  const Shape* out_shape = nullptr;
  DType dtype = DType::f32;
  // Outputs 1, 2, ... of a multi-output node (Node::extra_outputs).
  std::vector<KernelOutput> extra_out;
  const Attrs* attrs = nullptr;
  // Working memory the kernel declared (kernel_scratch_bytes): in a Plan, a
  // range of the arena that the memory planner reserved for this node's step
  // alone; for a call bound outside a plan, scratch_owner's allocation.
  // nullptr and 0 for a kernel that declares none. Its contents do not
  // survive between calls.
  void* scratch = nullptr;
  std::size_t scratch_bytes = 0;
  std::shared_ptr<std::byte[]> scratch_owner;
  // matmul, affine, affine_relu: the GEMM that bind_kernel() prepared on the
  // backend chosen for this shape (runtime/gemm/choice.hpp); a call made
  // without one runs through CBLAS. gemm_owner keeps it alive while any copy
  // of the call (a plan's call list) does.
  const gemm::Prepared* gemm = nullptr;
  std::shared_ptr<const gemm::Prepared> gemm_owner;
  // allreduce_start, allreduce_wait: set by the plan that binds them
  // (Plan::State::bind_calls); nullptr elsewhere.
  CollectiveSlot* collective = nullptr;

  std::size_t n_in() const { return in.size(); }
};

using Kernel = void (*)(const KernelCall&);

}  // namespace kiln
