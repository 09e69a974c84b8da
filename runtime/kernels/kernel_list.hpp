#pragma once
#include "runtime/kernel_call.hpp"

// Every kernel of an op declared with KILN_OP, declared by hand per family
// (not generated from ops.def), so that an op added to graph/ops.def without
// a kernel here fails to compile in runtime/kernel_table.cpp. Ops declared
// with KILN_POINTWISE need none: their kernel is kernels::pointwise over
// their scalar function (runtime/kernels/pointwise.hpp).
namespace kiln::kernels {

// leaves.cpp
void input(const KernelCall&);
void labels(const KernelCall&);
void param(const KernelCall&);
void get_output(const KernelCall&);
void constant(const KernelCall&);

// elementwise.cpp
void add(const KernelCall&);
void sub(const KernelCall&);
void mul(const KernelCall&);
void div(const KernelCall&);
void scale(const KernelCall&);

// reduce.cpp
void sum(const KernelCall&);
void mean(const KernelCall&);
void l2(const KernelCall&);

// linalg.cpp (GEMM and dot through CBLAS)
void matmul(const KernelCall&);
void dot(const KernelCall&);
void affine(const KernelCall&);
void affine_relu(const KernelCall&);

// layout.cpp
void reshape(const KernelCall&);

// classification.cpp
void softmax(const KernelCall&);
void log_softmax(const KernelCall&);
void cross_entropy(const KernelCall&);
void softmax_cross_entropy(const KernelCall&);
void softmax_cross_entropy_with_grad(const KernelCall&);

// gradient.cpp
void add_n(const KernelCall&);
void expand(const KernelCall&);
void relu_grad(const KernelCall&);
void softmax_grad(const KernelCall&);
void log_softmax_grad(const KernelCall&);
void cross_entropy_grad(const KernelCall&);
void softmax_cross_entropy_grad(const KernelCall&);

// update.cpp (optimizer updates; output bound to operand 0's storage)
void sgd_update(const KernelCall&);
void momentum_update(const KernelCall&);
void ema_update(const KernelCall&);
void ema_square_update(const KernelCall&);
void step_count(const KernelCall&);
void adam_update(const KernelCall&);
void sgd_matmul_update(const KernelCall&);

// collective.cpp (data-parallel reduction through CollectiveSlot)
void allreduce_start(const KernelCall&);
void allreduce_wait(const KernelCall&);
void allreduce_slice(const KernelCall&);

}  // namespace kiln::kernels
