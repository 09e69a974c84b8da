#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::data {

// A labelled classification dataset held in memory: `x` is rows × features,
// row-major, f32 (what the runtime's `input` nodes take); `y` holds one class id
// per row in [0, classes) (what `labels` nodes take).
struct Dataset {
  std::string name;  // shown in errors and logs, e.g. "digits/train"
  std::int64_t rows = 0, features = 0, classes = 0;
  std::vector<float> x;
  std::vector<std::int32_t> y;

  const float* row(std::int64_t r) const { return x.data() + r * features; }
};

// A train/test pair. Loaders without a test set (CSV, spiral, moons) leave
// `test` with 0 rows; hold_out_last() carves one out of `train`.
struct Split {
  Dataset train, test;
};

// Throws kiln::Error naming the dataset when its fields disagree: x.size() !=
// rows·features, y.size() != rows, or a label outside [0, classes).
void validate(const Dataset& d);

// The rows of `d` listed in `order`, in that order, named `name` (keeps
// features and classes). Indices are checked.
Dataset select_rows(const Dataset& d, const std::vector<std::int64_t>& order, std::string name);

}  // namespace kiln::data
