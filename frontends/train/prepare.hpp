#pragma once
// The data a training run (or an evaluation of its checkpoint) sees: the
// dataset loaded from its spec, an optional validation hold-out, an
// optional test set from another spec, and the explicit feature scaling,
// always applied in the same order so `kiln eval` can redo what `kiln
// train` did from the checkpoint's metadata.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "frontends/data/dataset.hpp"

namespace kiln::train {

struct DataOptions {
  std::string spec = "digits";  // data::load_dataset's forms
  std::string test_spec;        // "": the dataset's own test part, if any
  std::int64_t val_split = 0;   // hold out the last N training rows
  std::optional<double> scale;  // multiply every feature (e.g. 1/255)
  bool standardize = false;     // then (x − mean) / std, fitted on the training rows
  std::uint64_t seed = 0;       // for the datasets that are shuffled or generated
};

struct PreparedData {
  data::Dataset train;
  std::optional<data::Dataset> val, test;  // absent when there are no such rows
  std::string scaling;                     // "none", "x 0.00392157 (1/255)", "standardized (fit on train)", ...
};

// Loads and prepares. Order: load, --test, hold out, scale, standardise
// (fit on the training rows after the hold-out). Throws kiln::Error from the
// loaders, and for a hold-out that leaves no training rows.
PreparedData prepare_data(const DataOptions& options);

// "1/255", "0.5", "1e-3": a positive finite factor; throws kiln::Error otherwise.
double parse_scale(std::string_view text);

}  // namespace kiln::train
