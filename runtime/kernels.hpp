#pragma once
#include <cstddef>
#include <span>
#include <vector>

#include "graph/op.hpp"
#include "runtime/kernel_call.hpp"
#include "runtime/tensor.hpp"

namespace kiln {

// The CPU kernel of an op, for f32 and f64 alike (kernels dispatch on
// KernelCall::dtype). The table is generated from graph/ops.def and names
// kiln::kernels::<op>, declared one by one in runtime/kernels/kernel_list.hpp,
// so an op without a kernel does not compile.
//
// Semantics are those of graph/shape_rules.cpp; operand shapes are trusted
// (the graph was checked), so kernels never validate and never allocate.
// Leaves: `constant` writes its attrs.value; `input`, `labels` and `param`
// do nothing (their buffers are fed or owned by the parameter store).
Kernel kernel_for(OpKind op);

// One kernel invocation with its resolved arguments: a step of a plan.
struct BoundKernel {
  Kernel kernel = nullptr;
  KernelCall call;
  void run() const { kernel(call); }
};

// Appends the one call that computes a node of kind `op` from `inputs` into
// `out`, whatever the number of operands. The shapes and `attrs` must
// outlive the call. `extra_outputs` are the buffers of a multi-output node's
// outputs 1, 2, ... (nullptr data: not computed). `scratch` is the working
// memory planned for the call, at least kernel_scratch_bytes() long
// (runtime/kernel_scratch.hpp); left empty, the call allocates its own now
// when the kernel declares any (the reference Executor, benchmarks and tests
// bind without a plan), never while it runs. Throws kiln::Error when the
// operand or output count does not fit the op, or when a given scratch range
// is too small.
void bind_kernel(OpKind op, std::span<const TensorRef> inputs, const TensorRef& out, const Attrs& attrs,
                 std::vector<BoundKernel>& calls, std::span<const TensorRef> extra_outputs = {},
                 std::span<std::byte> scratch = {});

}  // namespace kiln
