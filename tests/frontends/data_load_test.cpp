#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "frontends/data/idx.hpp"
#include "frontends/data/load.hpp"
#include "graph/error.hpp"

using namespace kiln::data;
namespace fs = std::filesystem;

namespace {

struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("kiln_data_load_" + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& contents) const {
    std::ofstream(path / name, std::ios::binary) << contents;
    return (path / name).string();
  }
};

}  // namespace

TEST_CASE("load_dataset: digits, spiral and moons by name", "[data][load]") {
  const Split digits = load_dataset("digits", 3);
  CHECK(digits.train.rows == 1257);
  CHECK(digits.test.rows == 540);
  CHECK(load_dataset("digits", 3).train.y == digits.train.y);

  const Split spiral = load_dataset("spiral", 3);
  CHECK(spiral.train.rows == 300);
  CHECK(spiral.train.classes == 3);
  CHECK(spiral.test.rows == 0);
  CHECK(spiral.test.features == 2);  // an empty test set still has the train set's shape

  const Split moons = load_dataset("moons", 3);
  CHECK(moons.train.rows == 1000);
  CHECK(moons.train.classes == 2);
  CHECK(moons.test.rows == 0);
  CHECK(load_dataset("moons", 4).train.x != moons.train.x);
}

TEST_CASE("load_dataset: csv puts every row in train", "[data][load]") {
  ScratchDir dir;
  const auto features = dir.write("f.csv", "1,2\n3,4\n5,6\n");
  const auto labels = dir.write("l.csv", "0\n2\n1\n");
  const Split split = load_dataset("csv:" + features + "," + labels, 0);
  CHECK(split.train.rows == 3);
  CHECK(split.train.features == 2);
  CHECK(split.train.classes == 3);
  CHECK(split.test.rows == 0);
  CHECK_THROWS_WITH(load_dataset("csv:" + features, 0), Catch::Contains("exactly two paths"));
  CHECK_THROWS_WITH(load_dataset("csv:a,b,c", 0), Catch::Contains("exactly two paths"));
}

TEST_CASE("load_dataset: mnist:DIR and fashion-mnist:DIR read IDX folders", "[data][load]") {
  ScratchDir dir;
  const std::string image_header("\0\0\x08\x03\0\0\0\x01\0\0\0\x02\0\0\0\x02", 16);
  const std::string label_header("\0\0\x08\x01\0\0\0\x01", 8);
  for (const char* half : {"train", "t10k"}) {
    dir.write(std::string(half) + "-images-idx3-ubyte", image_header + std::string("\x01\x02\x03\x04", 4));
    dir.write(std::string(half) + "-labels-idx1-ubyte", label_header + std::string("\x01", 1));
  }
  const Split mnist = load_dataset("mnist:" + dir.path.string(), 0);
  CHECK(mnist.train.name == "mnist/train");
  CHECK(mnist.train.rows == 1);
  CHECK(mnist.train.features == 4);
  CHECK(mnist.test.x == std::vector<float>{1, 2, 3, 4});
  CHECK(load_dataset("fashion-mnist:" + dir.path.string(), 0).test.name == "fashion-mnist/test");
  CHECK_THROWS_WITH(load_dataset("fashion-mnist:/nonexistent", 0),
                    Catch::Contains("apt-get install dataset-fashion-mnist"));
  if (!fs::is_directory(kFashionMnistDir))
    CHECK_THROWS_WITH(load_dataset("fashion-mnist", 0), Catch::Contains("apt-get install dataset-fashion-mnist"));
}

TEST_CASE("load_dataset: bad specs list the valid forms", "[data][load]") {
  auto message_of = [](const std::string& spec) -> std::string {
    try {
      load_dataset(spec, 0);
    } catch (const kiln::Error& error) {
      return error.what();
    }
    FAIL("dataset spec '" << spec << "' was accepted");
    return {};
  };
  for (const std::string spec : {"cifar10", "", "mnist", "digits:5", "csv:", "spiral:3"}) {
    INFO("spec '" << spec << "'");
    const std::string message = message_of(spec);
    CHECK_THAT(message, Catch::StartsWith("dataset '" + spec + "': "));
    for (const char* form : {"digits ", "fashion-mnist ", "fashion-mnist:DIR", "mnist:DIR",
                             "csv:FEATURES.csv,LABELS.csv", "spiral ", "moons "})
      CHECK_THAT(message, Catch::Contains(form));
  }
  CHECK_THAT(message_of("cifar10"), Catch::Contains("unknown dataset"));
  CHECK_THAT(message_of("mnist"), Catch::Contains("as mnist:DIR"));
  CHECK_THAT(message_of("digits:5"), Catch::Contains("'digits' takes no argument"));
  CHECK_THAT(message_of("csv:"), Catch::Contains("nothing after ':'"));
}
