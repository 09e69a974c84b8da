// .npy reader: hostile headers are refused with a clear error before any
// tensor is allocated (the message is the header check's, not an
// allocation failure's), and inputs the fuzzer (tests/fuzz/fuzz_npy) found.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../cli/bad_input.hpp"
#include "graph/error.hpp"
#include "runtime/npy.hpp"

namespace {

struct ScratchFile {
  std::string path;
  explicit ScratchFile(const std::string& bytes)
      : path((std::filesystem::temp_directory_path() / ("kiln_npy_regression_" + std::to_string(::getpid()) + ".npy")).string()) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  ~ScratchFile() { std::filesystem::remove(path); }
};

std::string refusal(const std::string& bytes) {
  ScratchFile f(bytes);
  try {
    (void)kiln::read_npy(f.path);
  } catch (const kiln::Error& e) {
    return e.what();
  }
  return "(read_npy accepted it)";
}

}  // namespace

TEST_CASE("npy hostile header: a shape of 10^18 elements is refused from the file size", "[runtime][npy][hostile]") {
  const std::string message =
      refusal(kiln::test::bad::npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }"));
  CHECK_THAT(message, Catch::Contains("expected 1000000000000000000 elements of <f4"));
  CHECK_THAT(message, Catch::Contains("0 bytes of data: the file is truncated"));
  CHECK_THAT(message, !Catch::Contains("cannot allocate"));
}

TEST_CASE("npy hostile header: an element count overflowing 64 bits is refused", "[runtime][npy][hostile]") {
  const std::string message = refusal(
      kiln::test::bad::npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"));
  CHECK_THAT(message, Catch::Contains("a shape whose element count fits in 64 bits"));
  CHECK_THAT(message, Catch::Contains("[4294967296, 4294967296, 4294967296]"));
}

TEST_CASE("npy hostile header: a byte count overflowing 64 bits is refused", "[runtime][npy][hostile]") {
  // 2^61 elements fit in 64 bits, 2^61 x 8 bytes do not.
  const std::string message = refusal(
      kiln::test::bad::npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }"));
  CHECK_THAT(message, Catch::Contains("the file is truncated"));
  CHECK_THAT(message, !Catch::Contains("cannot allocate"));
}

TEST_CASE("npy hostile header: a declared header length beyond the file or 1 MiB", "[runtime][npy][hostile]") {
  std::string huge("\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12);
  CHECK_THAT(refusal(huge), Catch::Contains("a declared length of 2147483647"));
  std::string beyond("\x93NUMPY\x01\x00\xff\x00{'descr'", 18);
  CHECK_THAT(refusal(beyond), Catch::Contains("(truncated header)"));
}

TEST_CASE("npy regression: a directory is named as one, not as a truncated file", "[runtime][npy][regression]") {
  const auto dir = std::filesystem::temp_directory_path() / ("kiln_npy_regression_dir_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string message;
  try {
    (void)kiln::read_npy(dir.string());
  } catch (const kiln::Error& e) {
    message = e.what();
  }
  std::filesystem::remove_all(dir);
  // Before the fix: "expected 6 bytes of magic, found only 0 (truncated)".
  CHECK(message == dir.string() + ": expected a .npy file, found a directory");
}

TEST_CASE("npy regression: a pipe is refused, since its size cannot bound the header's claims",
          "[runtime][npy][regression]") {
  // Before the fix, tellg() failed on a pipe and the file size read as
  // 2^64 - 1, so a header's shape was trusted and allocated before reading.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const std::string path = "/dev/fd/" + std::to_string(fds[0]);
  const std::string hostile =
      kiln::test::bad::npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }");
  REQUIRE(::write(fds[1], hostile.data(), hostile.size()) == static_cast<ssize_t>(hostile.size()));
  ::close(fds[1]);
  CHECK_THROWS_WITH(kiln::read_npy(path), Catch::Contains(path) && Catch::Contains("a pipe, socket or device"));
  ::close(fds[0]);
}
