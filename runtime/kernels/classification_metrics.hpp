#pragma once
// Scoring a classifier's logits against labels, as evaluation does after a
// forward plan has run: the summed softmax cross-entropy, the number of
// rows whose first highest score is the label, and the confusion counts,
// straight from the plan's logits buffer. Not an op: nothing differentiates
// it, and its results are counts, not tensors.
#include <cstdint>

namespace kiln::kernels {

// Adds `rows` rows of row-major [rows, classes] logits (classes ≥ 1) with
// labels in [0, classes) (the caller checks them): to *loss_sum the sum of
// log Σ exp(z) − z[label]; to *correct the rows whose prediction, the first
// column of the row's max, is the label; one to confusion[label · classes +
// prediction] per row. f32 logits: the log-sum-exp in f32 with the maximum
// shifted out (finite for any finite logits), each row's loss added in
// double. f64 logits: all in double.
void add_classification_metrics(const float* logits, const std::int32_t* labels, std::int64_t rows,
                                 std::int64_t classes, double* loss_sum, std::int64_t* correct,
                                 std::int64_t* confusion);
void add_classification_metrics(const double* logits, const std::int32_t* labels, std::int64_t rows,
                                std::int64_t classes, double* loss_sum, std::int64_t* correct,
                                std::int64_t* confusion);

}  // namespace kiln::kernels
