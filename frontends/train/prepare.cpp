#include "frontends/train/prepare.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

#include "frontends/data/load.hpp"
#include "frontends/data/preprocess.hpp"
#include "graph/error.hpp"

namespace kiln::train {
namespace {

std::optional<double> number(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

double parse_scale(std::string_view text) {
  const std::size_t slash = text.find('/');
  std::optional<double> value;
  if (slash == std::string_view::npos) {
    value = number(text);
  } else {
    auto top = number(text.substr(0, slash)), bottom = number(text.substr(slash + 1));
    if (top && bottom && *bottom != 0) value = *top / *bottom;
  }
  if (!value || !std::isfinite(*value) || *value <= 0)
    throw Error("--scale '" + std::string(text) + "': expected a positive factor such as 1/255 or 0.0625");
  return *value;
}

PreparedData prepare_data(const DataOptions& options) {
  data::Split split = data::load_dataset(options.spec, options.seed);
  PreparedData out;
  if (!options.test_spec.empty()) {
    data::Split other = data::load_dataset(options.test_spec, options.seed);
    out.test = other.test.rows > 0 ? std::move(other.test) : std::move(other.train);
  } else if (split.test.rows > 0) {
    out.test = std::move(split.test);
  }
  if (options.val_split < 0) throw Error("--val-split " + std::to_string(options.val_split) + ": expected N >= 0 rows");
  if (options.val_split > 0) {
    if (options.val_split >= split.train.rows)
      throw Error("--val-split " + std::to_string(options.val_split) + ": dataset '" + split.train.name + "' has only " +
                  std::to_string(split.train.rows) + " training rows, and at least one must stay for training");
    data::Split held = data::hold_out_last(std::move(split.train), options.val_split);
    out.train = std::move(held.train);
    out.val = std::move(held.test);
    out.val->name = out.train.name + "/val";
  } else {
    out.train = std::move(split.train);
  }

  std::ostringstream scaling;
  if (options.scale) {
    data::scale(out.train, *options.scale);
    if (out.val) data::scale(*out.val, *options.scale);
    if (out.test) data::scale(*out.test, *options.scale);
    scaling << "x " << *options.scale;
    if (std::abs(1.0 / *options.scale - std::round(1.0 / *options.scale)) < 1e-9 * (1.0 / *options.scale))
      scaling << " (1/" << std::llround(1.0 / *options.scale) << ")";
  }
  if (options.standardize) {
    const data::Standardizer standardizer = data::Standardizer::fit(out.train);
    standardizer.apply(out.train);
    if (out.val) standardizer.apply(*out.val);
    if (out.test) standardizer.apply(*out.test);
    scaling << (options.scale ? ", then " : "") << "standardized (mean/std fitted on the training rows)";
  }
  out.scaling = scaling.str().empty() ? "none (features as loaded)" : scaling.str();
  return out;
}

}  // namespace kiln::train
