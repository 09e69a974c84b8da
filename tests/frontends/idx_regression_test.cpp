// IDX reader: hostile headers are refused with a clear error before any
// buffer is allocated, and inputs the fuzzer (tests/fuzz/fuzz_idx) found.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../cli/bad_input.hpp"
#include "frontends/data/idx.hpp"
#include "graph/error.hpp"

namespace bad = kiln::test::bad;

namespace {

struct ScratchPair {
  std::filesystem::path dir;
  std::string images, labels;
  ScratchPair(const std::string& image_bytes, const std::string& label_bytes)
      : dir(std::filesystem::temp_directory_path() / ("kiln_idx_regression_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir);
    images = (dir / "images").string();
    labels = (dir / "labels").string();
    std::ofstream(images, std::ios::binary) << image_bytes;
    std::ofstream(labels, std::ios::binary) << label_bytes;
  }
  ~ScratchPair() { std::filesystem::remove_all(dir); }
};

std::string refusal(const std::string& image_bytes, const std::string& label_bytes) {
  ScratchPair files(image_bytes, label_bytes);
  try {
    (void)kiln::data::load_idx(files.images, files.labels);
  } catch (const kiln::Error& e) {
    return e.what();
  }
  return "(load_idx accepted it)";
}

}  // namespace

TEST_CASE("idx hostile header: dimensions whose product overflows 64 bits", "[data][idx][hostile]") {
  const std::string message =
      refusal(bad::idx_images(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 4), bad::idx_labels(0xFFFFFFFF, 4));
  CHECK_THAT(message, Catch::Contains("header dimensions overflow 64 bits"));
}

TEST_CASE("idx hostile header: a billion images claimed by a 100-byte file", "[data][idx][hostile]") {
  const std::string message = refusal(bad::idx_images(1000000000, 28, 28, 84), bad::idx_labels(1000000000, 92));
  CHECK_THAT(message, Catch::Contains("truncated: header claims 1000000000 images of 28×28 pixels"));
  CHECK_THAT(message, Catch::Contains("found 100"));
}
