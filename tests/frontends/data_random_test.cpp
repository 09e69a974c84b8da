#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "frontends/data/random.hpp"

using namespace kiln::data;

TEST_CASE("Rng::uniform is the engine's top 53 bits scaled into the unit interval", "[data][random]") {
  Rng rng(123);
  std::mt19937_64 reference(123);  // the standard fixes this engine's sequence
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.uniform();
    CHECK(u == static_cast<double>(reference() >> 11) / 9007199254740992.0);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("Rng::normal has mean 0 and variance 1", "[data][random]") {
  Rng rng(5);
  const int n = 200000;
  double sum = 0.0, squares = 0.0;
  int beyond_two_sigma = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    sum += z;
    squares += z * z;
    beyond_two_sigma += std::abs(z) > 2.0;
  }
  const double mean = sum / n, variance = squares / n - mean * mean;
  CHECK(std::abs(mean) < 0.01);             // standard error 0.0022
  CHECK(std::abs(variance - 1.0) < 0.02);   // standard error 0.0032
  CHECK(beyond_two_sigma / double(n) == Approx(0.0455).margin(0.003));  // P(|Z| > 2)
}

TEST_CASE("Rng::below stays in range and is close to uniform", "[data][random]") {
  Rng rng(9);
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) {
    const auto v = rng.below(7);
    REQUIRE(v < 7u);
    ++counts[v];
  }
  for (const int c : counts) CHECK(std::abs(c - n / 7) < 400);  // sd ≈ 92
  CHECK(rng.below(1) == 0u);
}

TEST_CASE("permutation and shuffle: every index once, deterministic by seed", "[data][random]") {
  Rng a(11), b(11), c(12);
  const auto pa = permutation(1000, a), pb = permutation(1000, b), pc = permutation(1000, c);
  CHECK(pa == pb);
  CHECK(pa != pc);
  auto sorted = pa;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  CHECK(pa != identity);
  CHECK(permutation(0, a).empty());
  CHECK(permutation(1, a) == std::vector<std::int64_t>{0});
}

TEST_CASE("shuffle draws each ordering of three items equally often", "[data][random]") {
  Rng rng(13);
  std::vector<std::vector<std::int64_t>> seen;
  std::vector<int> counts;
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    std::vector<std::int64_t> v{0, 1, 2};
    shuffle(v, rng);
    const auto found = std::find(seen.begin(), seen.end(), v);
    if (found == seen.end()) {
      seen.push_back(v);
      counts.push_back(1);
    } else {
      ++counts[static_cast<std::size_t>(found - seen.begin())];
    }
  }
  CHECK(seen.size() == 6u);
  for (const int c : counts) CHECK(std::abs(c - n / 6) < 400);  // sd ≈ 91
}
