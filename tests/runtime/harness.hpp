#pragma once
// Helpers for the runtime tests: run one op through the reference Executor
// and compare with references computed here in double.
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "runtime/executor.hpp"
#include "runtime/tensor.hpp"

namespace kiln::test {

inline Tensor random_tensor(const Shape& shape, DType dtype, std::mt19937& rng, double low = -2.0,
                            double high = 2.0) {
  std::uniform_real_distribution<double> u(low, high);
  Tensor t(shape, dtype);
  for (std::size_t i = 0; i < t.numel(); ++i) t.set(i, u(rng));
  return t;
}

inline Tensor class_ids(const std::vector<double>& ids) {
  return Tensor::from_values(Shape{static_cast<std::int64_t>(ids.size())}, DType::i32, ids);
}

// Builds a graph of one `op` node named "y" over leaves x0, x1, ... holding
// `inputs` (i32 tensors become labels with `classes` classes), runs it
// through the Executor and returns y. `explicit_shape` is for expand.
inline Tensor run_op(OpKind op, const std::vector<Tensor>& inputs, Attrs attrs = {},
                     std::optional<Shape> explicit_shape = std::nullopt, std::int64_t classes = 0) {
  Graph g;
  std::vector<NodeId> ids;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& t = inputs[k];
    std::string name = "x" + std::to_string(k);
    if (t.dtype() == DType::i32) {
      Attrs la;
      la.classes = classes;
      ids.push_back(g.add_explicit(OpKind::labels, {}, t.shape(), DType::i32, la, name));
    } else {
      ids.push_back(g.add_explicit(OpKind::input, {}, t.shape(), t.dtype(), {}, name));
    }
  }
  if (explicit_shape)
    g.add_explicit(op, ids, *explicit_shape, inputs.at(0).dtype(), attrs, "y");
  else
    g.add(op, ids, attrs, "y");
  Executor ex(g);
  for (std::size_t k = 0; k < inputs.size(); ++k) ex.feed("x" + std::to_string(k), inputs[k]);
  ex.run();
  return ex.value("y");
}

// Tolerance for a result computed in `dtype` and compared with a double
// reference: relative to the magnitude of the values involved.
inline double tolerance(DType dtype) { return dtype == DType::f32 ? 2e-5 : 1e-12; }

inline void check_close(const Tensor& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.numel() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i << " of " << got.type_str() << ": got " << got.get(i) << ", want " << want[i]);
    if (std::isnan(want[i])) {
      CHECK(std::isnan(got.get(i)));
      continue;
    }
    if (std::isinf(want[i])) {
      CHECK(got.get(i) == want[i]);
      continue;
    }
    CHECK(std::abs(got.get(i) - want[i]) <= tol * (1.0 + std::abs(want[i])));
  }
}

inline void check_close(const Tensor& got, const std::vector<double>& want) {
  check_close(got, want, tolerance(got.dtype()));
}

// The values of `t` as doubles; references are computed from these, so the
// f32 tests compare against the exact result for the rounded inputs.
inline std::vector<double> vals(const Tensor& t) { return t.values(); }

inline Attrs axis(std::optional<int> a) {
  Attrs attrs;
  attrs.axis = a;
  return attrs;
}

constexpr DType kFloatTypes[] = {DType::f32, DType::f64};

}  // namespace kiln::test
