#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/error.hpp"
#include "runtime/npy.hpp"
#include "runtime/npy_header.hpp"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag)
      : path(fs::temp_directory_path() / ("kiln_npy_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
std::string le_bytes(std::initializer_list<T> values) {
  std::string s;
  for (T v : values) s.append(reinterpret_cast<const char*>(&v), sizeof(T));  // the test hosts are little-endian
  return s;
}

// A .npy file built by hand: magic, version, little-endian header length,
// the header text padded to 64 bytes with a newline, then `data`.
std::string npy_file(int major, const std::string& dict, const std::string& data, int minor = 0) {
  std::size_t prefix = major == 1 ? 10 : 12;
  std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  std::size_t len = total - prefix;
  std::string s("\x93NUMPY", 6);
  s += static_cast<char>(major);
  s += static_cast<char>(minor);
  for (std::size_t b = 0; b < (major == 1 ? 2u : 4u); ++b) s += static_cast<char>((len >> (8 * b)) & 0xFF);
  s += dict;
  s.append(len - dict.size() - 1, ' ');
  s += '\n';
  return s + data;
}

}  // namespace

TEST_CASE("write_npy then read_npy round-trips every dtype and rank", "[runtime][npy]") {
  TempDir dir("roundtrip");
  for (DType dt : {DType::f32, DType::f64, DType::i32})
    for (const Shape& shape : {Shape{}, Shape{5}, Shape{2, 3, 4}, Shape{1, 1}}) {
      INFO(dtype_name(dt) << " " << shape.str());
      Tensor t(shape, dt);
      for (std::size_t i = 0; i < t.numel(); ++i) t.set(i, dt == DType::i32 ? double(i) * 1000 - 7 : double(i) / 3.0 - 2.5);
      std::string path = dir.file("t.npy");
      write_npy(path, t);
      Tensor back = read_npy(path);
      CHECK(back.shape() == shape);
      CHECK(back.dtype() == dt);
      CHECK(std::memcmp(back.raw(), t.raw(), t.bytes()) == 0);
    }
}

TEST_CASE("written files carry NumPy's header layout", "[runtime][npy]") {
  TempDir dir("layout");
  std::string path = dir.file("w.npy");
  write_npy(path, Tensor::from_values(Shape{3}, DType::f32, {1, 2, 3}));
  std::string bytes = slurp(path);
  REQUIRE(bytes.size() > 10);
  CHECK(bytes.substr(0, 6) == std::string("\x93NUMPY", 6));
  CHECK(bytes[6] == 1);
  CHECK(bytes[7] == 0);
  std::size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  CHECK((10 + header_len) % 64 == 0);
  CHECK(bytes[10 + header_len - 1] == '\n');
  CHECK(bytes.substr(10, header_len).find("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }") == 0);
  CHECK(bytes.size() == 10 + header_len + 12);
  // No temporary file is left behind, and a second write replaces the first.
  write_npy(path, Tensor::from_values(Shape{2}, DType::i32, {4, 5}));
  CHECK(read_npy(path).values() == std::vector<double>{4, 5});
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("format_header writes NumPy's tuple syntax", "[runtime][npy]") {
  CHECK(npy::format_header({"<f8", false, {}}) == "{'descr': '<f8', 'fortran_order': False, 'shape': (), }");
  CHECK(npy::format_header({"<i4", false, {7}}) == "{'descr': '<i4', 'fortran_order': False, 'shape': (7,), }");
  CHECK(npy::format_header({"<f4", false, {2, 3}}) == "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
}

TEST_CASE("read_npy accepts every header version, key order and '<i8' labels", "[runtime][npy]") {
  TempDir dir("variants");
  std::string f4 = le_bytes<float>({1.5f, -2.0f});
  struct Case {
    std::string what, bytes;
    Shape shape;
    DType dtype;
    std::vector<double> values;
  };
  const Case cases[] = {
      {"version 2.0", npy_file(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4), Shape{2},
       DType::f32, {1.5, -2}},
      {"version 3.0", npy_file(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4), Shape{2},
       DType::f32, {1.5, -2}},
      {"keys reordered, no trailing comma, double quotes",
       npy_file(1, "{\"shape\": (1, 2), \"fortran_order\": False, \"descr\": \"<f4\"}", f4), Shape{1, 2}, DType::f32,
       {1.5, -2}},
      {"Python 2 long literals", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }", f4),
       Shape{2}, DType::f32, {1.5, -2}},
      {"a 0-d array", npy_file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", le_bytes<double>({0.25})),
       Shape{}, DType::f64, {0.25}},
      {"int64 labels", npy_file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                                le_bytes<std::int64_t>({0, 9, 2147483647})),
       Shape{3}, DType::i32, {0, 9, 2147483647}},
      {"int32 labels", npy_file(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                                le_bytes<std::int32_t>({-4, 4})),
       Shape{2}, DType::i32, {-4, 4}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string path = dir.file("v.npy");
    spit(path, c.bytes);
    Tensor t = read_npy(path);
    CHECK(t.shape() == c.shape);
    CHECK(t.dtype() == c.dtype);
    CHECK(t.values() == c.values);
  }
}

TEST_CASE("malformed and hostile .npy files are rejected with the file and the reason", "[runtime][npy]") {
  TempDir dir("malformed");
  const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string f4x2 = le_bytes<float>({1, 2});
  std::string bad_len_v2("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12);
  struct Case {
    std::string what, bytes, message;
  };
  const Case cases[] = {
      {"an empty file", "", "0 bytes"},
      {"another format", "PK\x03\x04 this is a zip file, not an array", "magic"},
      {"an unknown version", npy_file(4, ok_dict, f4x2), "version 4.0"},
      {"a truncated header", npy_file(1, ok_dict, f4x2).substr(0, 40), "truncated header"},
      {"an absurd header length", bad_len_v2 + "{}", "at most"},
      {"an unclosed dictionary", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", f4x2),
       "',' or '}' after the value of 'shape'"},
      {"an unknown key", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", f4x2),
       "'x'"},
      {"a missing key", npy_file(1, "{'descr': '<f4', 'fortran_order': False}", f4x2), "'shape' key"},
      {"a non-tuple shape", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", f4x2),
       "tuple of integers"},
      {"a negative dimension", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", f4x2),
       "integer dimension"},
      {"Fortran order", npy_file(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", f4x2),
       "fortran_order True"},
      {"an unsupported dtype", npy_file(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (4,), }", f4x2),
       "'<u2'"},
      {"big-endian data", npy_file(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", f4x2), "'>f4'"},
      {"a zero dimension", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2), }", ""),
       "positive dimensions"},
      {"an overflowing element count",
       npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", f4x2),
       "fits in 64 bits"},
      {"an overflowing dimension",
       npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", f4x2),
       "fits in 64 bits"},
      {"a shape far larger than the file (must not allocate)",
       npy_file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 100000), }", f4x2), "truncated"},
      {"truncated data", npy_file(1, ok_dict, f4x2.substr(0, 6)), "truncated"},
      {"trailing data", npy_file(1, ok_dict, f4x2 + "xx"), "trailing"},
      {"an int64 label beyond i32",
       npy_file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                le_bytes<std::int64_t>({1, std::int64_t{1} << 40})),
       "element 1"},
      {"a non-ASCII version 1 header", npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), '\xc3\xa9': 1}", f4x2),
       "ASCII"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string path = dir.file("bad.npy");
    spit(path, c.bytes);
    CHECK_THROWS_WITH(read_npy(path), Catch::Contains(path) && Catch::Contains(c.message));
  }
  CHECK_THROWS_WITH(read_npy(dir.file("absent.npy")), Catch::Contains("absent.npy") && Catch::Contains("opened"));
}

TEST_CASE("read_npy_as checks the node's shape and dtype and names all of them", "[runtime][npy]") {
  TempDir dir("as");
  std::string path = dir.file("x.npy");
  write_npy(path, Tensor(Shape{32, 10}, DType::f64));
  CHECK(read_npy_as(path, Shape{32, 10}, DType::f64, "x").shape() == Shape{32, 10});
  CHECK_THROWS_WITH(read_npy_as(path, Shape{32, 10}, DType::f32, "fc1/x"),
                    Catch::Contains(path) && Catch::Contains("'fc1/x'") && Catch::Contains("expected f32 [32, 10]") &&
                        Catch::Contains("found f64 [32, 10]") && Catch::Contains("astype"));
  CHECK_THROWS_WITH(read_npy_as(path, Shape{16, 10}, DType::f64, "x"),
                    Catch::Contains("expected f64 [16, 10]") && Catch::Contains("found f64 [32, 10]"));
  std::string labels = dir.file("y.npy");
  spit(labels, npy_file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", le_bytes<std::int64_t>({2, 0, 1})));
  Tensor y = read_npy_as(labels, Shape{3}, DType::i32, "y");
  CHECK(y.values() == std::vector<double>{2, 0, 1});
}

TEST_CASE("write_npy names the file when it cannot write", "[runtime][npy]") {
  std::string path = "/nonexistent-kiln-dir/out.npy";
  CHECK_THROWS_WITH(write_npy(path, Tensor()), Catch::Contains(path));
}
