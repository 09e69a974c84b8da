#include "frontends/data/load.hpp"

#include <string>

#include "frontends/data/csv.hpp"
#include "frontends/data/digits.hpp"
#include "frontends/data/idx.hpp"
#include "frontends/data/synthetic.hpp"
#include "graph/error.hpp"

namespace kiln::data {

const char* const kDatasetSpecHelp =
    "  digits                       the embedded 8x8 digits (1257 train / 540 test rows, shuffled by seed)\n"
    "  fashion-mnist                Fashion-MNIST from /usr/share/datasets/fashion-mnist\n"
    "  fashion-mnist:DIR            Fashion-MNIST IDX files (raw or .gz) in DIR\n"
    "  mnist:DIR                    MNIST IDX files (raw or .gz) in DIR\n"
    "  csv:FEATURES.csv,LABELS.csv  numeric CSV without header, one class id per label line\n"
    "  spiral                       the cs231n 3-class spiral (300 points, seeded)\n"
    "  moons                        two interleaved half circles (1000 points, noise 0.2, seeded)\n";

namespace {

[[noreturn]] void unknown(std::string_view spec, const std::string& why) {
  throw Error("dataset '" + std::string(spec) + "': " + why + "; valid forms:\n" + kDatasetSpecHelp);
}

Split train_only(Dataset d) {
  Split split;
  split.test.name = d.name + "/test";
  split.test.features = d.features;
  split.test.classes = d.classes;
  split.train = std::move(d);
  return split;
}

}  // namespace

Split load_dataset(std::string_view spec, std::uint64_t seed) {
  const std::size_t colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const bool has_argument = colon != std::string_view::npos;
  const std::string argument(has_argument ? spec.substr(colon + 1) : std::string_view{});
  if (has_argument && argument.empty()) unknown(spec, "nothing after ':'");

  if (kind == "digits" || kind == "spiral" || kind == "moons") {
    if (has_argument) unknown(spec, "'" + std::string(kind) + "' takes no argument");
    if (kind == "digits") return load_digits(seed);
    if (kind == "spiral") return train_only(make_spiral(seed));
    return train_only(make_moons(seed));
  }
  if (kind == "fashion-mnist") return load_fashion_mnist(has_argument ? argument : kFashionMnistDir);
  if (kind == "mnist") {
    if (!has_argument) unknown(spec, "mnist needs the directory holding its IDX files, as mnist:DIR");
    return load_mnist_dir(argument, "mnist");
  }
  if (kind == "csv") {
    const std::size_t comma = argument.find(',');
    if (comma == std::string::npos || argument.find(',', comma + 1) != std::string::npos)
      unknown(spec, "csv needs exactly two paths, features then labels, separated by one comma");
    return train_only(load_csv(argument.substr(0, comma), argument.substr(comma + 1)));
  }
  unknown(spec, "unknown dataset");
}

}  // namespace kiln::data
