#include "frontends/data/preprocess.hpp"

#include <cmath>
#include <numeric>
#include <string>

#include "frontends/data/random.hpp"
#include "graph/error.hpp"

namespace kiln::data {

void scale(Dataset& d, double factor) {
  if (!std::isfinite(factor)) throw Error("scale: dataset '" + d.name + "': factor " + std::to_string(factor) + " is not finite");
  for (float& v : d.x) v = static_cast<float>(v * factor);
}

Standardizer Standardizer::fit(const Dataset& d) {
  validate(d);
  if (d.rows == 0) throw Error("Standardizer::fit: dataset '" + d.name + "' has no rows");
  // Two passes in double: the one-pass formula loses digits when mean² ≫ variance.
  const auto features = static_cast<std::size_t>(d.features);
  std::vector<double> sum(features, 0.0), squares(features, 0.0);
  for (std::int64_t r = 0; r < d.rows; ++r)
    for (std::size_t f = 0; f < features; ++f) sum[f] += d.row(r)[f];
  std::vector<double> mean(features);
  for (std::size_t f = 0; f < features; ++f) mean[f] = sum[f] / static_cast<double>(d.rows);
  for (std::int64_t r = 0; r < d.rows; ++r)
    for (std::size_t f = 0; f < features; ++f) {
      const double delta = d.row(r)[f] - mean[f];
      squares[f] += delta * delta;
    }
  Standardizer s;
  s.mean.resize(features);
  s.stddev.resize(features);
  for (std::size_t f = 0; f < features; ++f) {
    const double stddev = std::sqrt(squares[f] / static_cast<double>(d.rows));
    s.mean[f] = static_cast<float>(mean[f]);
    s.stddev[f] = stddev > 0.0 ? static_cast<float>(stddev) : 1.0f;  // a constant feature is only centred
  }
  return s;
}

void Standardizer::apply(Dataset& d) const {
  if (mean.size() != static_cast<std::size_t>(d.features) || stddev.size() != mean.size())
    throw Error("Standardizer::apply: fitted on " + std::to_string(mean.size()) + " features, dataset '" + d.name +
                "' has " + std::to_string(d.features));
  const auto features = mean.size();
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const std::size_t f = i % features;
    d.x[i] = (d.x[i] - mean[f]) / stddev[f];
  }
}

Split split_random(const Dataset& d, std::uint64_t seed, double train_fraction) {
  validate(d);
  if (!(train_fraction > 0.0 && train_fraction <= 1.0))
    throw Error("split of dataset '" + d.name + "': train fraction " + std::to_string(train_fraction) +
                " is not in (0, 1]");
  // The tolerance keeps 0.29 · 100 at 29 although it evaluates to 28.999...
  const auto train_rows = static_cast<std::int64_t>(std::floor(train_fraction * static_cast<double>(d.rows) + 1e-9));
  if (train_rows < 1)
    throw Error("split of dataset '" + d.name + "': train fraction " + std::to_string(train_fraction) + " of " +
                std::to_string(d.rows) + " rows leaves no training row");
  Rng rng(seed);
  const std::vector<std::int64_t> order = permutation(d.rows, rng);
  const auto middle = order.begin() + train_rows;
  Split split;
  split.train = select_rows(d, {order.begin(), middle}, d.name + "/train");
  split.test = select_rows(d, {middle, order.end()}, d.name + "/test");
  return split;
}

Split hold_out_last(Dataset train, std::int64_t n) {
  validate(train);
  if (n < 0 || n >= train.rows)
    throw Error("hold_out_last: cannot hold out " + std::to_string(n) + " of the " + std::to_string(train.rows) +
                " rows of dataset '" + train.name + "' (need 0 <= n < rows, leaving at least one training row)");
  const std::int64_t keep = train.rows - n;
  Split split;
  split.test.name = train.name + "/validation";
  split.test.rows = n;
  split.test.features = train.features;
  split.test.classes = train.classes;
  const auto x_middle = train.x.begin() + static_cast<std::ptrdiff_t>(keep * train.features);
  const auto y_middle = train.y.begin() + static_cast<std::ptrdiff_t>(keep);
  split.test.x.assign(x_middle, train.x.end());
  split.test.y.assign(y_middle, train.y.end());
  train.x.erase(x_middle, train.x.end());
  train.y.erase(y_middle, train.y.end());
  train.rows = keep;
  split.train = std::move(train);
  return split;
}

}  // namespace kiln::data
