// Checkpoint reader: hostile headers are refused with a clear error before
// anything is allocated for them, and inputs the fuzzer
// (tests/fuzz/fuzz_checkpoint) found.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../cli/bad_input.hpp"
#include "graph/error.hpp"
#include "runtime/checkpoint.hpp"

namespace {

struct ScratchFile {
  std::string path;
  explicit ScratchFile(const std::string& bytes)
      : path((std::filesystem::temp_directory_path() /
              ("kiln_checkpoint_regression_" + std::to_string(::getpid()) + ".safetensors"))
                 .string()) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  ~ScratchFile() { std::filesystem::remove(path); }
};

std::string refusal(const std::string& bytes) {
  ScratchFile f(bytes);
  try {
    (void)kiln::read_checkpoint(f.path);
  } catch (const kiln::Error& e) {
    return e.what();
  }
  return "(read_checkpoint accepted it)";
}

}  // namespace

TEST_CASE("checkpoint hostile header: tensor offsets pointing outside the file", "[runtime][checkpoint][hostile]") {
  // 10^12 floats claimed, 16 bytes of data present.
  const std::string message = refusal(kiln::test::bad::safetensors(
      R"({"W": {"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 4000000000000]}})", std::string(16, '\0')));
  CHECK_THAT(message, Catch::Contains("tensor 'W'"));
  CHECK_THAT(message, Catch::Contains("data_offsets within the data section of 16 bytes"));
  CHECK_THAT(message, Catch::Contains("[0, 4000000000000]"));
  CHECK_THAT(message, !Catch::Contains("cannot allocate"));
}

TEST_CASE("checkpoint hostile header: offsets near 2^64 that wrap around", "[runtime][checkpoint][hostile]") {
  const std::string message = refusal(kiln::test::bad::safetensors(
      R"({"W": {"dtype": "F32", "shape": [2], "data_offsets": [18446744073709551615, 7]}})", std::string(8, '\0')));
  CHECK_THAT(message, Catch::Contains("tensor 'W'"));
  CHECK_THAT(message, Catch::Contains("begin <= end"));
}

TEST_CASE("checkpoint hostile header: an element count overflowing 64 bits", "[runtime][checkpoint][hostile]") {
  const std::string message = refusal(kiln::test::bad::safetensors(
      R"({"W": {"dtype": "F64", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 8]}})",
      std::string(8, '\0')));
  CHECK_THAT(message, Catch::Contains("tensor 'W'"));
  CHECK_THAT(message, Catch::Contains("element count fits in 64 bits"));
}

TEST_CASE("checkpoint hostile header: a header length of 2^64 - 1", "[runtime][checkpoint][hostile]") {
  std::string bytes(8, '\xff');
  bytes += "{}";
  CHECK_THAT(refusal(bytes), Catch::Contains("18446744073709551615: not a safetensors file, or a corrupt one"));
}
