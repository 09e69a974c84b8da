#include "frontends/train/metrics.hpp"

#include <algorithm>

#include "graph/error.hpp"
#include "runtime/comm/communicator.hpp"
#include "runtime/kernels/classification_metrics.hpp"

namespace kiln::train {

Metrics::Metrics(std::int64_t classes)
    : classes_(classes), confusion_(static_cast<std::size_t>(classes * classes), 0) {}

void Metrics::check_labels(const std::int32_t* labels, std::int64_t rows) const {
  for (std::int64_t r = 0; r < rows; ++r)
    if (labels[r] < 0 || labels[r] >= classes_)
      throw Error("label " + std::to_string(labels[r]) + " is outside the model's " + std::to_string(classes_) +
                  " classes [0, " + std::to_string(classes_) + ")");
}

void Metrics::add(const float* logits, const std::int32_t* labels, std::int64_t rows) {
  check_labels(labels, rows);
  kernels::add_classification_metrics(logits, labels, rows, classes_, &loss_sum_, &correct_, confusion_.data());
  rows_ += rows;
}

void Metrics::add(const double* logits, const std::int32_t* labels, std::int64_t rows) {
  check_labels(labels, rows);
  kernels::add_classification_metrics(logits, labels, rows, classes_, &loss_sum_, &correct_, confusion_.data());
  rows_ += rows;
}

double Metrics::accuracy() const { return rows_ ? static_cast<double>(correct_) / static_cast<double>(rows_) : 0.0; }
double Metrics::mean_loss() const { return rows_ ? loss_sum_ / static_cast<double>(rows_) : 0.0; }

std::int64_t Metrics::confusion(std::int64_t true_class, std::int64_t predicted) const {
  if (true_class < 0 || true_class >= classes_ || predicted < 0 || predicted >= classes_)
    throw Error("confusion(" + std::to_string(true_class) + ", " + std::to_string(predicted) + "): classes are 0.." +
                std::to_string(classes_ - 1));
  return confusion_[static_cast<std::size_t>(true_class * classes_ + predicted)];
}

std::string Metrics::confusion_table() const {
  std::size_t width = std::to_string(classes_ > 0 ? classes_ - 1 : 0).size();
  for (std::int64_t n : confusion_) width = std::max(width, std::to_string(n).size());
  auto pad = [](std::string text, std::size_t to) { return std::string(to > text.size() ? to - text.size() : 0, ' ') + text; };
  std::string out = "true\\pred";
  for (std::int64_t p = 0; p < classes_; ++p) out += pad(std::to_string(p), width + 1);
  out += "\n";
  for (std::int64_t t = 0; t < classes_; ++t) {
    out += pad(std::to_string(t), 9);
    for (std::int64_t p = 0; p < classes_; ++p) out += pad(std::to_string(confusion(t, p)), width + 1);
    out += "\n";
  }
  return out;
}

void Metrics::sum_over(Communicator& ranks) {
  // Counts travel as doubles: exact up to 2^53 rows.
  std::vector<double> sums{static_cast<double>(rows_), static_cast<double>(correct_), loss_sum_};
  for (std::int64_t n : confusion_) sums.push_back(static_cast<double>(n));
  ranks.allreduce_sum(sums.data(), sums.size(), DType::f64);
  rows_ = static_cast<std::int64_t>(sums[0]);
  correct_ = static_cast<std::int64_t>(sums[1]);
  loss_sum_ = sums[2];
  for (std::size_t i = 0; i < confusion_.size(); ++i) confusion_[i] = static_cast<std::int64_t>(sums[3 + i]);
}

}  // namespace kiln::train
