#include "tests/passes/gradcheck.hpp"

#include <algorithm>
#include <cmath>

#include "passes/autodiff.hpp"
#include "runtime/executor.hpp"

namespace kiln::testing {

double CaseBuilder::draw(Domain d) {
  std::uniform_real_distribution<double> u(d.lo, d.hi);
  double v = u(rng_);
  if (d.either_sign && (rng_() & 1)) v = -v;
  return v;
}

Value CaseBuilder::param(const std::string& name, Shape shape, Domain d) {
  Value v = b.param(name, shape, Init::zeros(), DType::f64);
  std::vector<double> values(static_cast<std::size_t>(shape.numel()));
  for (double& x : values) x = draw(d);
  feeds.emplace_back(v.name(), Tensor::from_values(shape, DType::f64, values));
  wrt.push_back(v.name());
  return v;
}

Value CaseBuilder::labels(const std::string& name, std::int64_t rows, std::int64_t classes) {
  Value v = b.labels(name, rows, classes);
  std::vector<double> ids(static_cast<std::size_t>(rows));
  for (double& id : ids) id = static_cast<double>(rng_() % static_cast<std::uint64_t>(classes));
  feeds.emplace_back(v.name(), Tensor::from_values(Shape{rows}, DType::i32, ids));
  return v;
}

Value CaseBuilder::one_hot(const std::string& name, std::int64_t rows, std::int64_t classes) {
  std::vector<double> t(static_cast<std::size_t>(rows * classes), 0.0);
  for (std::int64_t r = 0; r < rows; ++r) t[static_cast<std::size_t>(r * classes) + rng_() % classes] = 1.0;
  return b.constant(name, Shape{rows, classes}, t, DType::f64);
}

Value CaseBuilder::expand(Value x, Shape shape, std::optional<int> axis) {
  Attrs a;
  a.axis = axis;
  Graph& g = b.graph();
  NodeId id = g.add_explicit(OpKind::expand, {x.id()}, shape, DType::f64, a, b.name_for("expand"));
  return Value(&b, id);
}

void CaseBuilder::finish_with_loss(Value out) {
  if (out.shape().is_scalar()) {
    b.set_loss(out);
    return;
  }
  std::vector<double> r(static_cast<std::size_t>(out.shape().numel()));
  for (double& x : r) x = draw(Domain{0.5, 1.5, true});
  Value weights = b.constant("weights", out.shape(), r, DType::f64);
  b.set_loss(sum(mul(out, weights), std::nullopt, "loss"));
}

GradCheckResult check_gradients(const Graph& forward, const Feeds& feeds, const std::vector<std::string>& wrt,
                                std::size_t max_elements, double h, std::uint64_t seed) {
  AutodiffOptions options;
  options.wrt = wrt;
  Graph backward = autodiff(forward, options);

  Executor sym(backward, seed);
  Executor num(forward, seed);
  for (auto& [name, t] : feeds) {
    sym.feed(name, t);
    num.feed(name, t);
  }
  sym.run();

  GradCheckResult result;
  for (const std::string& name : wrt) {
    const Tensor& grad = sym.value(*backward.gradient_of(backward.at(name)));
    Tensor base = num.value(name);  // the fed or initialised value
    std::size_t n = base.numel();
    std::size_t stride = (max_elements == 0 || n <= max_elements) ? 1 : n / max_elements;
    for (std::size_t i = 0; i < n; i += stride) {
      Tensor t = base;
      double x = base.get(i);
      t.set(i, x + h);
      num.feed(name, t);
      num.run();
      double up = num.value(*forward.loss()).get(0);
      t.set(i, x - h);
      num.feed(name, t);
      num.run();
      double down = num.value(*forward.loss()).get(0);
      double fd = (up - down) / (2 * h);
      double s = grad.get(i);
      double rel = std::abs(s - fd) / std::max({std::abs(s), std::abs(fd), 1e-3});
      if (rel > result.worst_relative_error || result.elements_checked == 0) {
        result.worst_relative_error = std::max(rel, result.worst_relative_error);
        result.worst_where = name + "[" + std::to_string(i) + "]: symbolic " + std::to_string(s) +
                             ", finite difference " + std::to_string(fd);
      }
      ++result.elements_checked;
    }
    num.feed(name, base);
  }
  return result;
}

}  // namespace kiln::testing
