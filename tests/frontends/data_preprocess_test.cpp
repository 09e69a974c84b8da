#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "frontends/data/digits.hpp"
#include "frontends/data/preprocess.hpp"
#include "graph/error.hpp"

using namespace kiln::data;

namespace {

Dataset table(std::int64_t rows, std::int64_t features, std::vector<float> x, std::int64_t classes = 2) {
  Dataset d;
  d.name = "table";
  d.rows = rows;
  d.features = features;
  d.classes = classes;
  d.x = std::move(x);
  for (std::int64_t r = 0; r < rows; ++r) d.y.push_back(static_cast<std::int32_t>(r % classes));
  return d;
}

}  // namespace

TEST_CASE("scale multiplies every value", "[data][preprocess]") {
  Dataset d = digits();
  scale(d, 1.0 / 16.0);
  CHECK(*std::max_element(d.x.begin(), d.x.end()) == 1.0f);
  CHECK(d.x[2] == Approx(5.0 / 16.0));
  CHECK_THROWS_AS(scale(d, std::nan("")), kiln::Error);
}

TEST_CASE("Standardizer: population mean and stddev per feature, constant features only centred",
          "[data][preprocess]") {
  // Columns: 1,3,5 (mean 3, std sqrt(8/3)); constant 10; 4,4,7 (mean 5, std sqrt(2)).
  Dataset train = table(3, 3, {1, 10, 4, 3, 10, 4, 5, 10, 7});
  const Standardizer s = Standardizer::fit(train);
  REQUIRE(s.mean.size() == 3u);
  CHECK(s.mean[0] == Approx(3.0));
  CHECK(s.mean[1] == Approx(10.0));
  CHECK(s.mean[2] == Approx(5.0));
  CHECK(s.stddev[0] == Approx(std::sqrt(8.0 / 3.0)));
  CHECK(s.stddev[1] == 1.0f);
  CHECK(s.stddev[2] == Approx(std::sqrt(2.0)));

  s.apply(train);
  for (int f = 0; f < 3; ++f) {
    double sum = 0, squares = 0;
    for (int r = 0; r < 3; ++r) {
      sum += train.x[r * 3 + f];
      squares += train.x[r * 3 + f] * train.x[r * 3 + f];
    }
    CHECK(sum / 3 == Approx(0.0).margin(1e-6));
    CHECK(squares / 3 == Approx(f == 1 ? 0.0 : 1.0).margin(1e-6));
  }

  // The training statistics, not the test set's own, transform the test rows.
  Dataset test = table(1, 3, {7, 12, 5});
  s.apply(test);
  CHECK(test.x[0] == Approx(4.0 / std::sqrt(8.0 / 3.0)));
  CHECK(test.x[1] == Approx(2.0));
  CHECK(test.x[2] == Approx(0.0).margin(1e-6));

  Dataset other = table(1, 2, {1, 2});
  CHECK_THROWS_WITH(s.apply(other), Catch::Contains("fitted on 3 features") && Catch::Contains("has 2"));
  CHECK_THROWS_WITH(Standardizer::fit(table(0, 3, {})), Catch::Contains("no rows"));
}

TEST_CASE("Standardizer keeps precision when the mean dwarfs the spread", "[data][preprocess]") {
  Dataset d = table(4, 1, {10000.0f, 10001.0f, 10002.0f, 10003.0f});
  const Standardizer s = Standardizer::fit(d);
  CHECK(s.stddev[0] == Approx(std::sqrt(1.25)));
}

TEST_CASE("hold_out_last keeps order and splits off the last n rows", "[data][preprocess]") {
  const Dataset d = table(10, 2, [] {
    std::vector<float> x;
    for (int i = 0; i < 20; ++i) x.push_back(float(i));
    return x;
  }(), 3);
  const Split split = hold_out_last(d, 3);
  CHECK(split.train.rows == 7);
  CHECK(split.test.rows == 3);
  CHECK(split.train.name == "table");
  CHECK(split.test.name == "table/validation");
  CHECK(split.test.classes == 3);
  CHECK(split.train.x == std::vector<float>(d.x.begin(), d.x.begin() + 14));
  CHECK(split.test.x == std::vector<float>(d.x.begin() + 14, d.x.end()));
  CHECK(split.test.y == std::vector<std::int32_t>{1, 2, 0});
  validate(split.train);
  validate(split.test);
  CHECK(hold_out_last(d, 0).test.rows == 0);
  CHECK_THROWS_WITH(hold_out_last(d, 10), Catch::Contains("cannot hold out 10 of the 10 rows"));
  CHECK_THROWS_AS(hold_out_last(d, -1), kiln::Error);
}

TEST_CASE("validate names the inconsistent field", "[data][preprocess]") {
  Dataset d = table(2, 2, {1, 2, 3});
  CHECK_THROWS_WITH(validate(d), Catch::Contains("x holds 3 values"));
  d.x.push_back(4);
  d.y[1] = 5;
  CHECK_THROWS_WITH(validate(d), Catch::Contains("row 1 has label 5"));
}
