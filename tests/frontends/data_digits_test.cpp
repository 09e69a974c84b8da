#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "frontends/data/digits.hpp"
#include "graph/error.hpp"

using namespace kiln::data;

namespace {

// One row as comparable values: the label first, then the pixels.
std::vector<std::vector<float>> labelled_rows(const Dataset& d) {
  std::vector<std::vector<float>> rows;
  for (std::int64_t r = 0; r < d.rows; ++r) {
    std::vector<float> row{static_cast<float>(d.y[static_cast<std::size_t>(r)])};
    row.insert(row.end(), d.row(r), d.row(r) + d.features);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace

TEST_CASE("digits: 1797 8x8 images, pixels 0..16, 10 classes", "[data][digits]") {
  const Dataset d = digits();
  CHECK(d.name == "digits");
  REQUIRE(d.rows == 1797);
  REQUIRE(d.features == 64);
  CHECK(d.classes == 10);
  REQUIRE(d.x.size() == 1797u * 64u);
  REQUIRE(d.y.size() == 1797u);
  for (const float v : d.x) {
    REQUIRE(v >= 0.0f);
    REQUIRE(v <= 16.0f);
    REQUIRE(v == std::floor(v));
  }
  CHECK(*std::max_element(d.x.begin(), d.x.end()) == 16.0f);
  validate(d);
}

TEST_CASE("digits: the class histogram is scikit-learn's", "[data][digits]") {
  const Dataset d = digits();
  std::array<int, 10> histogram{};
  for (const std::int32_t label : d.y) {
    REQUIRE(label >= 0);
    REQUIRE(label < 10);
    ++histogram[static_cast<std::size_t>(label)];
  }
  CHECK(histogram == std::array<int, 10>{178, 182, 177, 183, 181, 182, 181, 179, 174, 180});
}

TEST_CASE("digits: rows keep scikit-learn's order (first image is its well-known zero)", "[data][digits]") {
  const Dataset d = digits();
  // sklearn.datasets.load_digits().target[:10] is 0..9 and images[0] is this 0.
  for (std::int32_t i = 0; i < 10; ++i) CHECK(d.y[static_cast<std::size_t>(i)] == i);
  const std::vector<float> zero = {0, 0, 5, 13, 9, 1,  0,  0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3,  15, 2, 0, 11,
                                   8, 0, 0, 4, 12, 0,  0,  8, 8, 0, 0,  5,  8,  0,  0, 9, 8, 0,  0,  4, 11, 0,
                                   1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0,  6,  13, 10, 0, 0, 0};
  CHECK(std::vector<float>(d.row(0), d.row(0) + 64) == zero);
}

TEST_CASE("load_digits: 1257 train / 540 test rows that together are the whole set", "[data][digits]") {
  const Split split = load_digits(7);
  CHECK(split.train.rows == 1257);  // floor(0.7 * 1797)
  CHECK(split.test.rows == 540);
  CHECK(split.train.name == "digits/train");
  CHECK(split.test.name == "digits/test");
  CHECK(split.train.features == 64);
  CHECK(split.test.classes == 10);
  validate(split.train);
  validate(split.test);

  Dataset both = split.train;
  both.rows += split.test.rows;
  both.x.insert(both.x.end(), split.test.x.begin(), split.test.x.end());
  both.y.insert(both.y.end(), split.test.y.begin(), split.test.y.end());
  CHECK(labelled_rows(both) == labelled_rows(digits()));
}

TEST_CASE("load_digits: the split depends on the seed and only on it", "[data][digits]") {
  const Split a = load_digits(1), b = load_digits(1), c = load_digits(2);
  CHECK(a.train.x == b.train.x);
  CHECK(a.train.y == b.train.y);
  CHECK(a.test.y == b.test.y);
  CHECK(a.train.y != c.train.y);
  // A shuffled split, not the first 1257 rows in file order.
  const Dataset all = digits();
  CHECK(std::vector<std::int32_t>(a.train.y.begin(), a.train.y.begin() + 20) !=
        std::vector<std::int32_t>(all.y.begin(), all.y.begin() + 20));
}

TEST_CASE("load_digits: other fractions and invalid ones", "[data][digits]") {
  const Split half = load_digits(3, 0.5);
  CHECK(half.train.rows == 898);
  CHECK(half.test.rows == 899);
  const Split all = load_digits(3, 1.0);
  CHECK(all.train.rows == 1797);
  CHECK(all.test.rows == 0);
  CHECK_THROWS_WITH(load_digits(3, 0.0), Catch::Contains("train fraction") && Catch::Contains("(0, 1]"));
  CHECK_THROWS_AS(load_digits(3, 1.5), kiln::Error);
  CHECK_THROWS_WITH(load_digits(3, 0.0001), Catch::Contains("leaves no training row"));
}
