// reshape's shape rule: ONNX Reshape's convention (0 keeps a dimension, one
// -1 is inferred), and one clear error per way dims can fail to fit.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "frontends/builder.hpp"
#include "graph/dot.hpp"
#include "graph/error.hpp"

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

Shape reshaped(Shape from, std::vector<std::int64_t> dims) {
  Builder g;
  return reshape(g.input("x", std::move(from)), std::move(dims), "r").shape();
}

// The message reshaping [4, 1, 8, 8] to `dims` fails with.
std::string reshape_error(std::vector<std::int64_t> dims) {
  Builder g;
  Value x = g.input("x", {4, 1, 8, 8});
  try {
    reshape(x, std::move(dims), "r");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("reshape keeps dimensions for 0, infers one -1 and takes explicit ones", "[graph][reshape]") {
  CHECK(reshaped({4, 1, 8, 8}, {0, -1}) == Shape{4, 64});
  CHECK(reshaped({4, 1, 8, 8}, {-1}) == Shape{256});
  CHECK(reshaped({4, 1, 8, 8}, {0, 0, -1, 2}) == Shape{4, 1, 32, 2});
  CHECK(reshaped({4, 1, 8, 8}, {2, 2, 64}) == Shape{2, 2, 64});
  CHECK(reshaped({6}, {-1, 1, 2}) == Shape{3, 1, 2});
  CHECK(reshaped({1, 1}, {}) == Shape{});
  CHECK(reshaped({}, {1, -1}) == Shape{1, 1});
}

TEST_CASE("reshape keeps the dtype and refuses labels", "[graph][reshape]") {
  Builder g;
  CHECK(reshape(g.input("x64", {2, 3}, DType::f64), {-1}).node().dtype == DType::f64);
  Value y = g.labels("y", 4, 3);
  CHECK_THROWS_WITH(reshape(y, {2, 2}, "r"), Contains("node 'r' (reshape)") && Contains("f32 or f64"));
}

TEST_CASE("reshape errors name the node, the operand's shape and the dims", "[graph][reshape]") {
  struct Bad {
    std::vector<std::int64_t> dims;
    const char* why;
  };
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max();
  for (const Bad& bad : {Bad{{-1, -1}, "at most one -1"}, Bad{{4, -2, 64}, "found -2 at position 1"},
                         Bad{{0, 0, 0, 0, 0}, "0 at position 4"}, Bad{{4, 65}, "expected 256 elements, found 260"},
                         Bad{{0, 3, -1}, "not a multiple of 12"}, Bad{{huge, huge}, "beyond 64 bits"},
                         Bad{{}, "expected 256 elements, found 1"}}) {
    const std::string message = reshape_error(bad.dims);
    INFO(message);
    CHECK_THAT(message, Contains("node 'r' (reshape)"));
    CHECK_THAT(message, Contains("[4, 1, 8, 8]"));
    CHECK_THAT(message, Contains("to dims " + Shape(bad.dims).str()));
    CHECK_THAT(message, Contains(bad.why));
  }
}

TEST_CASE("DOT labels a reshape with its dims", "[graph][reshape][dot]") {
  Builder g;
  reshape(g.input("x", {4, 1, 8, 8}), {0, -1}, "flat");
  CHECK_THAT(to_dot(g.graph()), Contains("dims=[0, -1]") && Contains("[4, 64]"));
}
