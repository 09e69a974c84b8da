#pragma once
#include <cstdint>

#include "frontends/data/dataset.hpp"

namespace kiln::data {

// Generated 2-D classification problems, seeded and identical on every platform
// (kiln::data::Rng, not std:: distributions). Both return a train-only dataset
// with 2 features.

// The cs231n spiral: for class j, points_per_class points with radius
// r = linspace(0, 1) and angle t = linspace(4j, 4(j+1)) + 0.2·N(0, 1), at
// (r sin t, r cos t). Rows are grouped by class, in order of increasing radius.
Dataset make_spiral(std::uint64_t seed, std::int64_t points_per_class = 100, std::int64_t classes = 3);

// scikit-learn's make_moons: rows/2 points of class 0 on the upper half circle
// (cos s, sin s), s = linspace(0, π), and the other rows - rows/2 of class 1 on
// (1 - cos s, 0.5 - sin s); rows shuffled, then N(0, noise²) added to each
// coordinate. noise 0 gives the exact curves.
Dataset make_moons(std::uint64_t seed, std::int64_t rows = 1000, double noise = 0.2);

}  // namespace kiln::data
