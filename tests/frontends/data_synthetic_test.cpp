#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "frontends/data/synthetic.hpp"
#include "graph/error.hpp"

using namespace kiln::data;

TEST_CASE("spiral: shape, labels grouped by class, deterministic by seed", "[data][synthetic]") {
  const Dataset d = make_spiral(1);
  CHECK(d.name == "spiral");
  CHECK(d.rows == 300);
  CHECK(d.features == 2);
  CHECK(d.classes == 3);
  validate(d);
  for (std::int64_t r = 0; r < 300; ++r) CHECK(d.y[static_cast<std::size_t>(r)] == r / 100);
  CHECK(make_spiral(1).x == d.x);
  CHECK(make_spiral(2).x != d.x);
  const Dataset small = make_spiral(1, 7, 5);
  CHECK(small.rows == 35);
  CHECK(small.classes == 5);
  CHECK_THROWS_AS(make_spiral(1, 0, 3), kiln::Error);
  CHECK_THROWS_AS(make_spiral(1, 10, 0), kiln::Error);
}

TEST_CASE("spiral: radius is linspace(0, 1), angle is the arm's plus N(0, 0.2²)", "[data][synthetic]") {
  const std::int64_t n = 200, classes = 3;
  const Dataset d = make_spiral(4, n, classes);
  double absolute_angle_noise = 0.0;
  int measured = 0;
  for (std::int64_t j = 0; j < classes; ++j)
    for (std::int64_t i = 0; i < n; ++i) {
      const float* p = d.row(j * n + i);
      const double radius = std::hypot(p[0], p[1]);
      REQUIRE(radius <= 1.0 + 1e-6);
      CHECK(radius == Approx(double(i) / (n - 1)).margin(1e-6));
      if (i == 0) continue;  // at radius 0 the angle is undefined
      // x = r sin t, y = r cos t, so t = atan2(x, y); compare modulo 2π.
      const double expected = 4.0 * j + 4.0 * double(i) / (n - 1);
      const double difference = std::remainder(std::atan2(p[0], p[1]) - expected, 2 * std::numbers::pi);
      absolute_angle_noise += std::abs(difference);
      ++measured;
    }
  // E|N(0, σ²)| = σ·sqrt(2/π) ≈ 0.160 for σ = 0.2; standard error ≈ 0.007 here.
  CHECK(absolute_angle_noise / measured == Approx(0.2 * std::sqrt(2 / std::numbers::pi)).margin(0.03));
}

TEST_CASE("moons: shape, balanced classes, shuffled, deterministic by seed", "[data][synthetic]") {
  const Dataset d = make_moons(3, 1001);
  CHECK(d.name == "moons");
  CHECK(d.rows == 1001);
  CHECK(d.features == 2);
  CHECK(d.classes == 2);
  validate(d);
  CHECK(std::count(d.y.begin(), d.y.end(), 0) == 500);  // rows / 2 on the outer moon, as scikit-learn
  CHECK(std::count(d.y.begin(), d.y.end(), 1) == 501);
  CHECK(!std::is_sorted(d.y.begin(), d.y.end()));
  CHECK(make_moons(3, 1001).x == d.x);
  CHECK(make_moons(4, 1001).x != d.x);
  CHECK_THROWS_AS(make_moons(3, 1), kiln::Error);
  CHECK_THROWS_AS(make_moons(3, 10, -0.1), kiln::Error);
}

TEST_CASE("moons without noise lie exactly on the two half circles", "[data][synthetic]") {
  const Dataset d = make_moons(5, 400, 0.0);
  for (std::int64_t r = 0; r < d.rows; ++r) {
    const float* p = d.row(r);
    if (d.y[static_cast<std::size_t>(r)] == 0) {  // upper half of the unit circle around (0, 0)
      CHECK(std::hypot(p[0], p[1]) == Approx(1.0).margin(1e-6));
      CHECK(p[1] >= -1e-6f);
    } else {  // lower half of the unit circle around (1, 0.5)
      CHECK(std::hypot(p[0] - 1.0, p[1] - 0.5) == Approx(1.0).margin(1e-6));
      CHECK(p[1] <= 0.5f + 1e-6f);
    }
  }
}

TEST_CASE("moons with noise: class means match the half circles' centroids", "[data][synthetic]") {
  const Dataset d = make_moons(6, 40000, 0.2);
  double sum[2][2] = {}, count[2] = {};
  for (std::int64_t r = 0; r < d.rows; ++r) {
    const auto c = static_cast<std::size_t>(d.y[static_cast<std::size_t>(r)]);
    sum[c][0] += d.row(r)[0];
    sum[c][1] += d.row(r)[1];
    ++count[c];
  }
  // The centroid of a half circle's arc is 2/π from its centre; the noise
  // adds a standard error of 0.2 / sqrt(20000) ≈ 0.0014.
  const double arc = 2.0 / std::numbers::pi;
  CHECK(sum[0][0] / count[0] == Approx(0.0).margin(0.01));
  CHECK(sum[0][1] / count[0] == Approx(arc).margin(0.01));
  CHECK(sum[1][0] / count[1] == Approx(1.0).margin(0.01));
  CHECK(sum[1][1] / count[1] == Approx(0.5 - arc).margin(0.01));
}
