#pragma once
// The scratch layouts of the kernels that use KernelCall::scratch, defined
// beside their kernels so that the size a kernel declares and the memory it
// uses cannot drift apart. runtime/kernel_scratch.cpp maps ops to them.
#include <cstddef>

#include "graph/dtype.hpp"
#include "graph/shape.hpp"

namespace kiln::kernels {

// softmax_cross_entropy (and softmax_cross_entropy_with_grad when its
// gradient is not read) over [rows, cols] logits: f32 exponentiates blocks of
// rows in scratch; f64 needs none.
std::size_t softmax_cross_entropy_scratch_bytes(const Shape& logits, DType dtype);

}  // namespace kiln::kernels
