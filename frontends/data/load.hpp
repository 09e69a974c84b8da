#pragma once
#include <cstdint>
#include <string_view>

#include "frontends/data/dataset.hpp"

namespace kiln::data {

// The dataset specs the command line accepts, one per line, for help texts.
extern const char* const kDatasetSpecHelp;

// Loads a dataset named by a spec string:
//   digits                     embedded 8×8 digits, shuffled with `seed`, 1257 train / 540 test
//   fashion-mnist              IDX files in /usr/share/datasets/fashion-mnist (60000 / 10000)
//   fashion-mnist:DIR          the same four IDX files (raw or .gz) in DIR
//   mnist:DIR                  MNIST's four IDX files (raw or .gz) in DIR
//   csv:FEATURES.csv,LABELS.csv  every row to train, empty test (paths without commas)
//   spiral                     make_spiral(seed): 3 classes × 100 points, train only
//   moons                      make_moons(seed): 1000 points, noise 0.2, train only
// Values are as loaded (no scaling). An unknown spec is an error listing these forms.
Split load_dataset(std::string_view spec, std::uint64_t seed);

}  // namespace kiln::data
