// CSV reader: inputs that were misreported or mishandled, and inputs the
// fuzzer (tests/fuzz/fuzz_csv) found.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "frontends/data/csv.hpp"
#include "graph/error.hpp"

namespace {

struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() : path(std::filesystem::temp_directory_path() / ("kiln_csv_regression_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

}  // namespace

TEST_CASE("csv regression: a directory given as a file is named as one, not as an empty file", "[data][csv][regression]") {
  ScratchDir dir;
  const std::string labels = dir.write("labels.csv", "0\n");
  std::filesystem::create_directories(dir.path / "features.csv");
  // Before the fix: "DIR/features.csv: empty file, expected at least one row of numbers".
  CHECK_THROWS_WITH(kiln::data::load_csv((dir.path / "features.csv").string(), labels),
                    "cannot open features file '" + (dir.path / "features.csv").string() + "': it is a directory");
}
