#pragma once
// Classification metrics computed from class scores (logits) and labels:
// accuracy, mean softmax cross-entropy and a confusion matrix. Computed from
// the scores themselves, so they do not depend on how the model's loss is
// written (penalty terms, fused or not), by the runtime's scoring kernel
// (runtime/kernels/classification_metrics.hpp: f32 logits scored in f32,
// sums kept in double).
#include <cstdint>
#include <string>
#include <vector>

namespace kiln {
class Communicator;
}

namespace kiln::train {

class Metrics {
 public:
  explicit Metrics(std::int64_t classes = 0);

  // Adds `rows` rows: logits is rows × classes, row-major; labels one id each
  // in [0, classes) (else kiln::Error, nothing added).
  void add(const float* logits, const std::int32_t* labels, std::int64_t rows);
  void add(const double* logits, const std::int32_t* labels, std::int64_t rows);

  std::int64_t rows() const { return rows_; }
  std::int64_t classes() const { return classes_; }
  std::int64_t correct() const { return correct_; }
  // Fraction of rows whose highest score (the first, on ties) is the label; 0 without rows.
  double accuracy() const;
  // Mean over rows of log Σ exp(z) − z[label]; 0 without rows.
  double mean_loss() const;
  // confusion(t, p): rows of true class t predicted as p.
  std::int64_t confusion(std::int64_t true_class, std::int64_t predicted) const;

  // The matrix as a text table, true classes down, predictions across.
  std::string confusion_table() const;

  // Adds up, in place, the metrics every rank of `ranks` computed on its own
  // rows (a collective call: every rank makes it), so each rank holds those
  // of all the rows.
  void sum_over(Communicator& ranks);

 private:
  void check_labels(const std::int32_t* labels, std::int64_t rows) const;

  std::int64_t classes_;
  std::int64_t rows_ = 0, correct_ = 0;
  double loss_sum_ = 0;
  std::vector<std::int64_t> confusion_;
};

}  // namespace kiln::train
