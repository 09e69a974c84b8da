#pragma once
// Elementwise math the kernels need in bulk, written as plain loops (or GCC
// vector extensions where a reduction would not vectorise) and compiled for
// AVX-512, AVX2 and baseline x86-64 with the best picked once when the
// program loads (GCC target_clones), so the build needs no -march flag and
// runs on any x86-64 CPU. The rest of the kernels are compiled for baseline
// x86-64 (SSE2): their hot loops belong here.
#include <cstddef>
#include <cstdint>

namespace kiln::kernels::detail {

// x[i] = e^x[i] for n floats, to within 1.5 ulp of the exact value (Cephes'
// polynomial on a range reduced by ln 2). Results below the smallest normal
// float (x < −87.34) are 0, above FLT_MAX (x > 88.38) FLT_MAX's neighbourhood
// is clamped to 2^127·e^0.29; NaN stays NaN. Used where the argument is a
// max-shifted logit (≤ 0), the softmax family's case.
void exp_in_place(float* x, std::size_t n);

// y[i] = e^(x[i] − shift), as exp_in_place; y may be x itself (not a
// partial overlap).
void exp_shifted(const float* x, std::size_t n, float shift, float* y);

// x[i] = ln x[i] for n positive, normal floats, to within 2 ulp (Cephes'
// polynomial). Other inputs give unspecified values: callers pass sums of
// exponentials, which are ≥ 1.
void log_in_place(float* x, std::size_t n);

// The smallest and largest of n ≥ 1 floats (NaN-free input).
void min_max(const float* x, std::size_t n, float* lo, float* hi);

// The numerators of a softmax over each row of a row-major [rows, cols]
// block of logits: out = e^(z − shift[r]), shift[r] being the row's max or,
// for a group of rows whose logits lie within a narrow range, the group's
// max (the result is the same softmax; see vector_math.cpp for the bound).
// out may be z itself; shift has `rows` entries.
void softmax_numerators(const float* z, std::size_t rows, std::size_t cols, float* out, float* shift);

// For a row-major [rows, cols] matrix: the per-row max and sum (narrow rows,
// a classifier's logits, included), and each row scaled by its own factor.
void row_max(const float* x, std::size_t rows, std::size_t cols, float* out);
void row_sum(const float* x, std::size_t rows, std::size_t cols, float* out);
void scale_rows(float* x, std::size_t rows, std::size_t cols, const float* factor);

// out[r] = the first column of row r holding max[r] (row_max's result): a
// classifier's prediction, the first of tied scores. 0 for a row without
// it (max[r] NaN).
void row_argmax(const float* x, std::size_t rows, std::size_t cols, const float* max, std::int32_t* out);

// out[j] = Σ over the rows of x[r, j] (a bias gradient), for any width
// (rows, cols ≥ 1):
// narrow matrices are summed as a flat array into a period of whole rows.
void column_sum(const float* x, std::size_t rows, std::size_t cols, float* out);

// dx[i] = y[i] > 0 ? dy[i] : 0 (ReLU's gradient from its output); dx may be
// dy or y itself.
void relu_backward(const float* dy, const float* y, float* dx, std::size_t n);

}  // namespace kiln::kernels::detail
