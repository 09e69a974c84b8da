#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace kiln::data {

// Seeded randomness whose output is the same with every standard library.
// std::mt19937_64's sequence is fixed by the standard, but std::normal_distribution,
// std::uniform_int_distribution and std::shuffle are not, so they are built
// here from the engine's raw 64-bit output.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t bits() { return engine_(); }
  // Uniform in [0, 1), with 53 random bits (every double of the form k·2^-53).
  double uniform();
  // Uniform integer in [0, n), unbiased (rejection sampling); n > 0.
  std::uint64_t below(std::uint64_t n);
  // Standard normal by Box–Muller; the second value of each pair is kept for
  // the next call.
  double normal();

 private:
  std::mt19937_64 engine_;
  double spare_normal_ = 0.0;
  bool has_spare_normal_ = false;
};

// Fisher–Yates shuffle with Rng::below, the same permutation everywhere.
void shuffle(std::vector<std::int64_t>& values, Rng& rng);

// 0, 1, ..., n-1 in random order.
std::vector<std::int64_t> permutation(std::int64_t n, Rng& rng);

}  // namespace kiln::data
