#pragma once
// Shared by the Plan tests: seeded feeds for any graph and a comparison of a
// plan's value with the reference Executor's.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.hpp"
#include "runtime/plan.hpp"
#include "runtime/tensor.hpp"

namespace kiln::test {

using Feeds = std::vector<std::pair<std::string, Tensor>>;

// A value for every input (uniform in [low, high]) and labels node (class
// ids in [0, classes)) of `g`, drawn from `seed`.
inline Feeds random_feeds(const Graph& g, std::uint64_t seed, double low = -1.0, double high = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(low, high);
  Feeds feeds;
  for (NodeId id : g.ids()) {
    const Node& n = g[id];
    if (n.op != OpKind::input && n.op != OpKind::labels) continue;
    Tensor t(n.shape, n.dtype);
    for (std::size_t i = 0; i < t.numel(); ++i)
      t.set(i, n.op == OpKind::labels ? static_cast<double>(rng() % static_cast<std::uint64_t>(n.attrs.classes))
                                      : u(rng));
    feeds.emplace_back(n.name, std::move(t));
  }
  return feeds;
}

// 1e-5 in f32, 1e-12 in f64: the agreement every planned value must reach.
inline double plan_tolerance(DType dtype) { return dtype == DType::f64 ? 1e-12 : 1e-5; }

// Relative to the largest magnitude in the reference, so elements that
// cancel to near zero are held to the precision the tensor as a whole has.
// NaN must meet NaN and an infinity the same infinity.
inline void check_agrees(const std::vector<double>& got, const std::vector<double>& want, double tol,
                         const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  double scale = 0;
  for (double w : want)
    if (std::isfinite(w)) scale = std::max(scale, std::abs(w));
  std::size_t bad = 0, first_bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    bool ok;
    if (std::isnan(want[i])) ok = std::isnan(got[i]);
    else if (std::isinf(want[i])) ok = got[i] == want[i];
    else ok = std::abs(got[i] - want[i]) <= tol * std::max(scale, 1e-300);
    if (!ok && bad++ == 0) first_bad = i;
  }
  INFO(bad << " of " << want.size() << " elements differ; first: element " << first_bad << " got "
            << (bad ? got[first_bad] : 0.0) << ", want " << (bad ? want[first_bad] : 0.0) << " (scale " << scale
            << ", tolerance " << tol << ")");
  CHECK(bad == 0);
}

inline void check_agrees(const TensorView& got, const Tensor& want, const std::string& what) {
  INFO(what << ": " << type_str(*got.shape, got.dtype) << " vs " << want.type_str());
  REQUIRE(*got.shape == want.shape());
  check_agrees(got.values(), want.values(), plan_tolerance(want.dtype()), what);
}

}  // namespace kiln::test
