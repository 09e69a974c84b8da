#pragma once
// Finite-difference gradient checking shared by the op-table and whole-model
// gradient checks.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "frontends/builder.hpp"
#include "runtime/tensor.hpp"

namespace kiln::testing {

using Feeds = std::vector<std::pair<std::string, Tensor>>;

// Where a param's random values are drawn: magnitude in [lo, hi], either sign
// when `either_sign`. Kinks (relu at 0) and poles (log, div at 0) stay away.
struct Domain {
  double lo = 0.1, hi = 1.5;
  bool either_sign = true;
  static Domain any() { return {0.0, 1.5, true}; }
  static Domain away_from_zero() { return {0.2, 1.5, true}; }
  static Domain positive() { return {0.3, 2.0, false}; }
  static Domain probability() { return {0.05, 0.95, false}; }
};

// Builds a small f64 graph around one op: params are the differentiated
// operands, fed with seeded random values.
class CaseBuilder {
 public:
  explicit CaseBuilder(std::uint64_t seed) : rng_(seed) {}

  Builder b;
  Feeds feeds;
  std::vector<std::string> wrt;

  Value param(const std::string& name, Shape shape, Domain d = Domain::any());
  Value labels(const std::string& name, std::int64_t rows, std::int64_t classes);
  Value one_hot(const std::string& name, std::int64_t rows, std::int64_t classes);
  Value expand(Value x, Shape shape, std::optional<int> axis);
  // loss = out when it is a scalar, else sum(out * R) with a random constant
  // R, so that every output element has its own weight in the gradient.
  void finish_with_loss(Value out);

 private:
  double draw(Domain d);
  std::mt19937_64 rng_;
};

struct GradCheckResult {
  double worst_relative_error = 0.0;
  std::string worst_where;
  std::size_t elements_checked = 0;
};

// Compares autodiff's gradient of each `wrt` node with central finite
// differences of the loss (step h, f64). Relative error is
// |sym − fd| / max(|sym|, |fd|, 1e-3). With max_elements > 0 only that many
// elements per tensor are checked, spread evenly.
GradCheckResult check_gradients(const Graph& forward, const Feeds& feeds, const std::vector<std::string>& wrt,
                                std::size_t max_elements = 0, double h = 1e-5, std::uint64_t seed = 7);
inline GradCheckResult check_gradients(CaseBuilder& c) { return check_gradients(c.b.graph(), c.feeds, c.wrt); }

}  // namespace kiln::testing
