#pragma once
#include <cstdint>
#include <vector>

#include "frontends/data/dataset.hpp"

namespace kiln::data {

// Multiplies every feature value by `factor` (e.g. 1/255 for IDX pixels, 1/16
// for digits). Loaders never scale on their own; this is the explicit step.
void scale(Dataset& d, double factor);

// Per-feature standardisation, (x - mean) / stddev, with the population standard
// deviation (divides by rows, like scikit-learn's StandardScaler). Fit it on the
// training rows only and apply the same transform to validation and test rows.
struct Standardizer {
  std::vector<float> mean, stddev;  // one per feature; a constant feature gets stddev 1

  static Standardizer fit(const Dataset& d);  // needs at least one row
  void apply(Dataset& d) const;               // features must match what was fitted
};

// Shuffles the rows of `d` with `seed`, then puts the first
// floor(train_fraction · rows) in `train` and the rest in `test`.
// train_fraction must lie in (0, 1] and leave at least one training row.
Split split_random(const Dataset& d, std::uint64_t seed, double train_fraction);

// Splits off the last `n` rows of `train` as a validation set (returned as
// `test`), keeping the order. Throws unless 0 <= n < rows.
Split hold_out_last(Dataset train, std::int64_t n);

}  // namespace kiln::data
