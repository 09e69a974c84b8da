#include "frontends/data/synthetic.hpp"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "frontends/data/random.hpp"
#include "graph/error.hpp"

namespace kiln::data {
namespace {

// numpy.linspace(start, stop, n)[i], including both ends.
double linspace(double start, double stop, std::int64_t n, std::int64_t i) {
  if (n == 1) return start;
  return start + (stop - start) * static_cast<double>(i) / static_cast<double>(n - 1);
}

}  // namespace

Dataset make_spiral(std::uint64_t seed, std::int64_t points_per_class, std::int64_t classes) {
  if (points_per_class < 1 || classes < 1)
    throw Error("spiral: need at least one class and one point per class, got " + std::to_string(classes) +
                " classes of " + std::to_string(points_per_class) + " points");
  Rng rng(seed);
  Dataset d;
  d.name = "spiral";
  d.rows = points_per_class * classes;
  d.features = 2;
  d.classes = classes;
  d.x.reserve(static_cast<std::size_t>(d.rows * 2));
  d.y.reserve(static_cast<std::size_t>(d.rows));
  for (std::int64_t j = 0; j < classes; ++j)
    for (std::int64_t i = 0; i < points_per_class; ++i) {
      const double radius = linspace(0.0, 1.0, points_per_class, i);
      const double angle = linspace(4.0 * j, 4.0 * (j + 1), points_per_class, i) + 0.2 * rng.normal();
      d.x.push_back(static_cast<float>(radius * std::sin(angle)));
      d.x.push_back(static_cast<float>(radius * std::cos(angle)));
      d.y.push_back(static_cast<std::int32_t>(j));
    }
  return d;
}

Dataset make_moons(std::uint64_t seed, std::int64_t rows, double noise) {
  if (rows < 2) throw Error("moons: need at least 2 rows (one per moon), got " + std::to_string(rows));
  if (!(noise >= 0.0) || !std::isfinite(noise))
    throw Error("moons: noise must be a finite standard deviation >= 0, got " + std::to_string(noise));
  const std::int64_t outer = rows / 2, inner = rows - outer;
  std::vector<double> xs, ys;
  std::vector<std::int32_t> labels;
  for (std::int64_t i = 0; i < outer; ++i) {
    const double s = linspace(0.0, std::numbers::pi, outer, i);
    xs.push_back(std::cos(s));
    ys.push_back(std::sin(s));
    labels.push_back(0);
  }
  for (std::int64_t i = 0; i < inner; ++i) {
    const double s = linspace(0.0, std::numbers::pi, inner, i);
    xs.push_back(1.0 - std::cos(s));
    ys.push_back(0.5 - std::sin(s));
    labels.push_back(1);
  }
  Rng rng(seed);
  const std::vector<std::int64_t> order = permutation(rows, rng);
  Dataset d;
  d.name = "moons";
  d.rows = rows;
  d.features = 2;
  d.classes = 2;
  d.x.reserve(static_cast<std::size_t>(rows * 2));
  for (const std::int64_t r : order) {
    const auto k = static_cast<std::size_t>(r);
    d.x.push_back(static_cast<float>(xs[k] + noise * rng.normal()));
    d.x.push_back(static_cast<float>(ys[k] + noise * rng.normal()));
    d.y.push_back(labels[k]);
  }
  return d;
}

}  // namespace kiln::data
