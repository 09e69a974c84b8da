#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "frontends/data/csv.hpp"
#include "graph/error.hpp"

using namespace kiln::data;
namespace fs = std::filesystem;

namespace {

// A scratch folder removed at the end of the test.
struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("kiln_data_csv_" + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& contents) const {
    const fs::path file = path / name;
    std::ofstream(file, std::ios::binary) << contents;
    return file.string();
  }
};

}  // namespace

TEST_CASE("csv: numbers with blanks, exponents, CRLF and a trailing blank line", "[data][csv]") {
  ScratchDir dir;
  const auto features = dir.write("f.csv", "1, 2.5 ,-3\r\n4e-1,+5,6\r\n0.0,1E2,  -0.25\n\n  \n");
  const auto labels = dir.write("l.csv", "0\n3.0\n 1e0 \n");
  const Dataset d = load_csv(features, labels);
  CHECK(d.name == features);
  CHECK(d.rows == 3);
  CHECK(d.features == 3);
  CHECK(d.classes == 4);
  CHECK(d.x == std::vector<float>{1, 2.5f, -3, 0.4f, 5, 6, 0, 100, -0.25f});
  CHECK(d.y == std::vector<std::int32_t>{0, 3, 1});
  validate(d);
}

TEST_CASE("csv: a file without a final newline and a single column", "[data][csv]") {
  ScratchDir dir;
  const Dataset d = load_csv(dir.write("f.csv", "7\n8"), dir.write("l.csv", "1\n0"));
  CHECK(d.rows == 2);
  CHECK(d.features == 1);
  CHECK(d.classes == 2);
}

TEST_CASE("csv: malformed features name file:line:column", "[data][csv]") {
  ScratchDir dir;
  const auto labels = dir.write("l.csv", "0\n1\n");
  auto fails_with = [&](const std::string& features_text, const std::string& message) {
    const auto features = dir.write("f.csv", features_text);
    CHECK_THROWS_WITH(load_csv(features, labels), Catch::Contains(features + message));
  };
  fails_with("1,2,3\n4,5\n", ":2:4: row has 2 cells, expected 3 as on line 1");
  fails_with("1,2\n4,5,6\n", ":2:5: row has 3 cells, expected 2");
  fails_with("1,2\n4, abc\n", ":2:4: cell 2 is 'abc', not a finite number");
  fails_with("1,2x\n4,5\n", ":1:3: cell 2 is '2x'");
  fails_with("1,,2\n4,5,6\n", ":1:3: cell 2 is empty");
  fails_with("1,nan\n4,5\n", ":1:3: cell 2 is 'nan', not a finite number");
  fails_with("1,2\n4,1e39\n", ":2:3: '1e39' does not fit in a 32-bit float");
  fails_with("1,2\n\n4,5\n", ":2:1: empty line between rows");
  fails_with("", ": empty file");
  fails_with("\n \n", ": empty file");
}

TEST_CASE("csv: malformed labels name file:line:column", "[data][csv]") {
  ScratchDir dir;
  const auto features = dir.write("f.csv", "1\n2\n3\n");
  auto fails_with = [&](const std::string& labels_text, const std::string& message) {
    const auto labels = dir.write("l.csv", labels_text);
    CHECK_THROWS_WITH(load_csv(features, labels), Catch::Contains(labels + message));
  };
  fails_with("0\n-1\n2\n", ":2:1: label '-1' is not an integer class id >= 0");
  fails_with("0\n1\n 2.5\n", ":3:2: label '2.5' is not an integer");
  fails_with("0\ncat\n2\n", ":2:1: label 'cat'");
  fails_with("0\n1,2\n2\n", ":2:3: expected one label per line, found 2 cells");
  fails_with("0\n1\n", ":3:1: ends after 2 labels, but " + features + " has 3 rows");
  fails_with("0\n1\n2\n3\n", ":4:1: more labels than the 3 rows of " + features);
  fails_with("0\n1\n3000000000\n", ":3:1: label '3000000000'");
  fails_with("", ": empty file");
}

TEST_CASE("csv: missing files and paths", "[data][csv]") {
  ScratchDir dir;
  const auto labels = dir.write("l.csv", "0\n");
  CHECK_THROWS_WITH(load_csv((dir.path / "absent.csv").string(), labels),
                    Catch::Contains("cannot open features file") && Catch::Contains("absent.csv"));
  CHECK_THROWS_AS(load_csv("", labels), kiln::Error);
}
