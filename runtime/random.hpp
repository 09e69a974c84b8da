#pragma once
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace kiln {

// A seeded stream of random numbers that is identical on every machine and
// standard library: std::mt19937_64's output is fixed by the standard, and
// uniforms and normals are made from its raw bits here (the std
// distributions are not portable across implementations).
class RandomStream {
 public:
  explicit RandomStream(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t bits() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Standard normal by Box–Muller; the second value of each pair is kept
  // for the next call.
  double normal();
  double normal(double mean, double std) { return mean + std * normal(); }

 private:
  std::mt19937_64 engine_;
  std::optional<double> spare_normal_;
};

// FNV-1a, 64 bits: a hash of a name that never changes between runs or
// platforms (unlike std::hash).
std::uint64_t stable_hash(std::string_view s);

// Combines two seeds into one well-mixed seed (splitmix64 finaliser), so
// streams derived from nearby seeds are unrelated.
std::uint64_t mix_seeds(std::uint64_t a, std::uint64_t b);

}  // namespace kiln
