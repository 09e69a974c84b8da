#include "frontends/data/digits.hpp"

#include <cstdint>

#include "frontends/data/preprocess.hpp"

namespace kiln::data {
namespace {
#include "frontends/data/digits_data.inc"
}  // namespace

Dataset digits() {
  Dataset d;
  d.name = "digits";
  d.rows = kDigitsRows;
  d.features = kDigitsFeatures;
  d.classes = kDigitsClasses;
  d.x.assign(std::begin(kDigitsPixels), std::end(kDigitsPixels));
  d.y.assign(std::begin(kDigitsLabels), std::end(kDigitsLabels));
  return d;
}

Split load_digits(std::uint64_t seed, double train_fraction) { return split_random(digits(), seed, train_fraction); }

}  // namespace kiln::data
