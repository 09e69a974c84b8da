// libFuzzer harness: a features CSV and a labels CSV (one input, split at
// kPairSeparator) through load_csv; a successful load must be consistent.
#include "frontends/data/csv.hpp"
#include "fuzz_support.hpp"
#include "graph/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string features_path = kiln::fuzz::scratch_path("features.csv");
  static const std::string labels_path = kiln::fuzz::scratch_path("labels.csv");
  auto [features, labels] = kiln::fuzz::split_pair(std::string_view(reinterpret_cast<const char*>(data), size),
                                                   kiln::fuzz::kPairSeparator);
  kiln::fuzz::write_file(features_path, features);
  kiln::fuzz::write_file(labels_path, labels);
  try {
    kiln::data::Dataset d = kiln::data::load_csv(features_path, labels_path);
    if (d.rows <= 0 || d.features <= 0 || d.x.size() != static_cast<std::size_t>(d.rows * d.features) ||
        d.y.size() != static_cast<std::size_t>(d.rows) || d.classes <= 0)
      std::abort();
    for (std::int32_t y : d.y)
      if (y < 0 || y >= d.classes) std::abort();
  } catch (const kiln::Error&) {
  }
  return 0;
}
