// The C++ half of the NumPy cross-check: hidden from the normal run (tag
// [.]) and started by tests/runtime/npy_numpy_check.py, which registers as
// the CTest test runtime.npy_numpy_cross_check (tests/runtime_numpy.cmake).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "graph/error.hpp"
#include "runtime/npy.hpp"

using namespace kiln;

TEST_CASE("kiln reads NumPy-written .npy files and writes files NumPy reads", "[.][npy-numpy]") {
  const char* dir = std::getenv("KILN_NPY_DIR");
  if (!dir) FAIL("run through tests/runtime/npy_numpy_check.py, which sets KILN_NPY_DIR");
  const std::string in = std::string(dir) + "/from_numpy/";
  const std::string out = std::string(dir) + "/from_kiln/";

  // The same formulas as the script's f4_array, f8_array, i4_array, i8_array.
  Tensor f4 = read_npy(in + "f4.npy");
  REQUIRE(f4.type_str() == "f32 [3, 5]");
  for (std::size_t i = 0; i < 15; ++i) CHECK(f4.data<float>()[i] == (static_cast<float>(i) - 7.0f) * 0.25f);
  for (const char* name : {"f4_v2.npy", "f4_v3.npy"}) {
    INFO(name);
    Tensor v = read_npy(in + name);
    CHECK(v.values() == f4.values());
  }
  Tensor f8 = read_npy(in + "f8.npy");
  REQUIRE(f8.type_str() == "f64 [2, 3, 4]");
  for (std::size_t i = 0; i < 24; ++i) CHECK(f8.data<double>()[i] == static_cast<double>(i) / 3.0);
  Tensor i4 = read_npy(in + "i4.npy");
  REQUIRE(i4.type_str() == "i32 [6]");
  for (std::size_t i = 0; i < 6; ++i) CHECK(i4.data<std::int32_t>()[i] == static_cast<std::int32_t>(i) * 1000 - 5000);
  Tensor i8 = read_npy(in + "i8.npy");
  REQUIRE(i8.type_str() == "i32 [4]");
  CHECK(i8.values() == std::vector<double>{0, 5, 2147483647.0, -2147483648.0});
  Tensor scalar = read_npy(in + "scalar.npy");
  CHECK(scalar.type_str() == "f64 []");
  CHECK(scalar.get(0) == 2.5);
  CHECK_THROWS_WITH(read_npy(in + "fortran.npy"), Catch::Contains("fortran_order True"));

  write_npy(out + "f4.npy", f4);
  write_npy(out + "f8.npy", f8);
  write_npy(out + "i4.npy", i4);
  write_npy(out + "scalar.npy", Tensor::from_values(Shape{}, DType::f64, {-0.125}));
}
