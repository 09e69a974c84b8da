#pragma once
// Elementwise math the kernels need in bulk, written as plain loops that the
// compiler vectorises, and compiled for AVX-512, AVX2 and baseline x86-64
// with the best picked once when the program loads (GCC target_clones), so
// the build needs no -march flag and runs on any x86-64 CPU.
#include <cstddef>

namespace kiln::kernels::detail {

// x[i] = e^x[i] for n floats, to within 1.5 ulp of the exact value (Cephes'
// polynomial on a range reduced by ln 2). Results below the smallest normal
// float (x < −87.34) are 0, above FLT_MAX (x > 88.38) FLT_MAX's neighbourhood
// is clamped to 2^127·e^0.29; NaN stays NaN. Used where the argument is a
// max-shifted logit (≤ 0), the softmax family's case.
void exp_in_place(float* x, std::size_t n);

}  // namespace kiln::kernels::detail

namespace kiln::kernels::detail {

// x[i] = ln x[i] for n positive, normal floats, to within 2 ulp (Cephes'
// polynomial). Other inputs give unspecified values: callers pass sums of
// exponentials, which are ≥ 1.
void log_in_place(float* x, std::size_t n);

// For a row-major [rows, cols] matrix with few columns (a classifier's
// logits), the per-row max and sum, computed across rows so that they
// vectorise however narrow the rows are.
void row_max(const float* x, std::size_t rows, std::size_t cols, float* out);
void row_sum(const float* x, std::size_t rows, std::size_t cols, float* out);

}  // namespace kiln::kernels::detail
