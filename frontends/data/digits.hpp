#pragma once
#include <cstdint>

#include "frontends/data/dataset.hpp"

namespace kiln::data {

// The 1,797 8×8 handwritten digits of the UCI "optical recognition of handwritten
// digits" test set, as shipped by scikit-learn: 64 features (pixel counts 0..16,
// row-major), 10 classes, in the original order. Embedded in the library
// (frontends/data/digits_data.inc, made by scripts/make_digits_data.py), so it
// needs no file at run time. Pixel values are not scaled.
Dataset digits();

// digits() shuffled with `seed`, then split: the first floor(train_fraction · 1797)
// rows train, the rest test. The default 0.7 gives 1,257 train and 540 test rows.
Split load_digits(std::uint64_t seed, double train_fraction = 0.7);

}  // namespace kiln::data
