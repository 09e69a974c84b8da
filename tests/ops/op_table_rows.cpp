// The rows of the op-test table (op_table.hpp): per op, a few shapes and
// attribute sets and a plain-loop double reference. References index with
// explicit multi-index arithmetic and never call kiln's kernels.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "tests/ops/op_table.hpp"

namespace kiln::optable {

Operand param(Shape s, Domain d) { return {std::move(s), LeafKind::param, d, {}, 0}; }
Operand param(Shape s, std::vector<double> values) {
  return {std::move(s), LeafKind::param, Domain::any(), std::move(values), 0};
}
Operand input(Shape s, Domain d) { return {std::move(s), LeafKind::input, d, {}, 0}; }
Operand input(Shape s, std::vector<double> values) {
  return {std::move(s), LeafKind::input, Domain::any(), std::move(values), 0};
}
Operand labels(std::int64_t classes, std::vector<double> ids) {
  Shape s{static_cast<std::int64_t>(ids.size())};
  return {s, LeafKind::labels, Domain::any(), std::move(ids), classes};
}

namespace {

using Values = std::vector<double>;
std::size_t count(const Shape& s) { return static_cast<std::size_t>(s.numel()); }

// outer × n × inner view of a shape around `axis` (negative counts from the
// end; absent means `fallback`, the last axis for the softmax family).
struct Lanes {
  std::size_t outer = 1, n = 1, inner = 1;
  std::size_t at(std::size_t o, std::size_t k, std::size_t i) const { return (o * n + k) * inner + i; }
};
Lanes lanes(const Shape& s, std::optional<int> axis) {
  const int rank = static_cast<int>(s.rank());
  const int a = axis ? (*axis < 0 ? *axis + rank : *axis) : rank - 1;
  Lanes l;
  for (int i = 0; i < a; ++i) l.outer *= static_cast<std::size_t>(s[i]);
  l.n = static_cast<std::size_t>(s[a]);
  for (int i = a + 1; i < rank; ++i) l.inner *= static_cast<std::size_t>(s[i]);
  return l;
}

Reference unary(double (*f)(double)) {
  return [f](const RefArgs& r) {
    Values out;
    for (double x : r.in[0]) out.push_back(f(x));
    return out;
  };
}

// The second operand repeats over the first: equal shapes, a scalar or a
// trailing part of the first's shape.
Reference binary(double (*f)(double, double)) {
  return [f](const RefArgs& r) {
    Values out(count(r.out));
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = f(r.in[0][i], r.in[1][i % r.in[1].size()]);
    return out;
  };
}

Values reduce(const Values& x, const Shape& s, std::optional<int> axis, bool average) {
  if (!axis) {
    double total = 0;
    for (double v : x) total += v;
    return {average ? total / static_cast<double>(x.size()) : total};
  }
  Lanes l = lanes(s, axis);
  Values out(l.outer * l.inner, 0.0);
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t k = 0; k < l.n; ++k)
      for (std::size_t i = 0; i < l.inner; ++i) out[o * l.inner + i] += x[l.at(o, k, i)];
  if (average)
    for (double& v : out) v /= static_cast<double>(l.n);
  return out;
}

// op(A)·op(B) by the definition.
Values matmul(const Values& a, const Shape& sa, const Values& b, const Shape& sb, bool ta, bool tb) {
  const std::size_t a1 = static_cast<std::size_t>(sa[1]), b1 = static_cast<std::size_t>(sb[1]);
  const std::size_t m = static_cast<std::size_t>(ta ? sa[1] : sa[0]), k = static_cast<std::size_t>(ta ? sa[0] : sa[1]);
  const std::size_t n = static_cast<std::size_t>(tb ? sb[0] : sb[1]);
  Values c(m * n, 0.0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t p = 0; p < k; ++p)
        c[i * n + j] += (ta ? a[p * a1 + i] : a[i * a1 + p]) * (tb ? b[j * b1 + p] : b[p * b1 + j]);
  return c;
}

// Softmax or log-softmax along each lane, shifted by the lane's max.
Values softmax(const Values& x, const Shape& s, std::optional<int> axis, bool log_space) {
  Lanes l = lanes(s, axis);
  Values out(x.size());
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t i = 0; i < l.inner; ++i) {
      double m = x[l.at(o, 0, i)];
      for (std::size_t k = 1; k < l.n; ++k) m = std::max(m, x[l.at(o, k, i)]);
      double total = 0;
      for (std::size_t k = 0; k < l.n; ++k) total += std::exp(x[l.at(o, k, i)] - m);
      for (std::size_t k = 0; k < l.n; ++k) {
        const double z = x[l.at(o, k, i)] - m;
        out[l.at(o, k, i)] = log_space ? z - std::log(total) : std::exp(z) / total;
      }
    }
  return out;
}

// Targets as a dense rows × classes matrix: one-hot from class ids, or as given.
Values dense_targets(const Values& t, const Shape& ts, const Shape& like) {
  if (ts.rank() == 2) return t;
  const std::size_t classes = static_cast<std::size_t>(like[1]);
  Values dense(count(like), 0.0);
  for (std::size_t r = 0; r < t.size(); ++r) dense[r * classes + static_cast<std::size_t>(t[r])] = 1.0;
  return dense;
}

// Mean over rows of −Σ t·log p.
Values cross_entropy(const RefArgs& r) {
  Values t = dense_targets(r.in[1], r.shapes[1], r.shapes[0]);
  double total = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t[i] != 0) total -= t[i] * std::log(r.in[0][i]);
  return {total / static_cast<double>(r.shapes[0][0])};
}

// Mean over rows of −Σ t·log softmax(z).
Values softmax_cross_entropy(const RefArgs& r) {
  Values t = dense_targets(r.in[1], r.shapes[1], r.shapes[0]);
  Values logp = softmax(r.in[0], r.shapes[0], std::nullopt, true);
  double total = 0;
  for (std::size_t i = 0; i < t.size(); ++i) total -= t[i] * logp[i];
  return {total / static_cast<double>(r.shapes[0][0])};
}

// (softmax(z)·Σt − t)/rows per row, times the incoming gradient `dloss`:
// the gradient of softmax_cross_entropy with respect to z.
Values softmax_cross_entropy_gradient(const RefArgs& r, double dloss) {
  Values t = dense_targets(r.in[1], r.shapes[1], r.shapes[0]);
  Values p = softmax(r.in[0], r.shapes[0], std::nullopt, false);
  const std::size_t rows = static_cast<std::size_t>(r.shapes[0][0]), classes = p.size() / rows;
  Values out(p.size());
  for (std::size_t row = 0; row < rows; ++row) {
    double mass = 0;
    for (std::size_t j = 0; j < classes; ++j) mass += t[row * classes + j];
    for (std::size_t j = 0; j < classes; ++j) {
      const std::size_t i = row * classes + j;
      out[i] = (p[i] * mass - t[i]) / static_cast<double>(rows) * dloss;
    }
  }
  return out;
}

Values affine(const RefArgs& r, bool clamp) {
  Values y = matmul(r.in[0], r.shapes[0], r.in[1], r.shapes[1], false, false);
  for (std::size_t i = 0; i < y.size(); ++i) {
    y[i] += r.in[2][i % r.in[2].size()];
    if (clamp) y[i] = std::max(y[i], 0.0);
  }
  return y;
}

// The operands one after the other: an allreduce over one rank.
Values concatenated(const RefArgs& r) {
  Values out;
  for (const Values& v : r.in) out.insert(out.end(), v.begin(), v.end());
  return out;
}

std::function<void(Attrs&)> axis(std::optional<int> a) {
  return [a](Attrs& attrs) { attrs.axis = a; };
}

std::string axis_label(std::optional<int> a) { return a ? "axis " + std::to_string(*a) : "no axis"; }

// An allreduce_start and the allreduce_wait that completes it, with the row's
// attributes on the one under test.
Build allreduce_pair(OpKind target) {
  return [target](Graph& g, const BuildArgs& b) {
    const bool start_tested = target == OpKind::allreduce_start;
    NodeId start =
        g.add(OpKind::allreduce_start, b.leaves, start_tested ? b.attrs : Attrs{}, start_tested ? "y" : "start");
    // Every started reduction is waited for, as a plan does.
    NodeId wait =
        g.add(OpKind::allreduce_wait, {start}, start_tested ? Attrs{} : b.attrs, start_tested ? "wait" : "y");
    return start_tested ? start : wait;
  };
}

std::vector<OpRow> make_rows() {
  std::vector<OpRow> rows;
  auto add = [&](OpRow row) { rows.push_back(std::move(row)); };

  // ---- leaves: the forward is the value the leaf holds.
  auto same_values = [](const RefArgs& r) { return r.in.empty() ? Values{} : r.in[0]; };
  add({.op = OpKind::input, .label = "[2,3] fed", .operands = {input({2, 3})}, .reference = same_values});
  add({.op = OpKind::input, .label = "scalar fed", .operands = {input({})}, .reference = same_values});
  add({.op = OpKind::labels,
       .label = "5 rows of 4 classes",
       .operands = {labels(4, {3, 0, 1, 1, 2})},
       .reference = same_values,
       .attrs = [](Attrs& a) { a.classes = 4; }});
  add({.op = OpKind::param, .label = "fed [3,2]", .operands = {param({3, 2})}, .reference = same_values});
  add({.op = OpKind::param,
       .label = "initialised to a constant",
       .operands = {},
       .reference = [](const RefArgs& r) { return Values(count(r.out), -0.125); },
       .attrs = [](Attrs& a) { a.init = Init::constant(-0.125); },
       .shape = Shape{2, 3}});
  add({.op = OpKind::constant,
       .label = "[2,2] values",
       .operands = {},
       .reference = [](const RefArgs& r) { return r.attrs.value; },
       .attrs =
           [](Attrs& a) {
             a.value = {0.5, -2.25, 1.0 / 3.0, 7.0};
           },
       .shape = Shape{2, 2}});
  add({.op = OpKind::constant,
       .label = "scalar",
       .operands = {},
       .reference = [](const RefArgs& r) { return r.attrs.value; },
       .attrs = [](Attrs& a) { a.value = {-1.5}; },
       .shape = Shape{}});

  // ---- elementwise binary, with every broadcast form the shape rule takes.
  struct Binary {
    OpKind op;
    double (*f)(double, double);
  };
  const Binary broadcasting[] = {{OpKind::add, [](double a, double b) { return a + b; }},
                                 {OpKind::sub, [](double a, double b) { return a - b; }},
                                 {OpKind::mul, [](double a, double b) { return a * b; }}};
  const std::pair<Shape, Shape> broadcast_shapes[] = {
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{3, 4}, {}}, {{1, 4}, {4}}, {{2, 3, 4}, {3, 4}}, {{2, 3, 4}, {4}}, {{}, {}},
  };
  for (const Binary& b : broadcasting)
    for (const auto& [sa, sb] : broadcast_shapes)
      add({.op = b.op,
           .label = sa.str() + " with " + sb.str(),
           .operands = {param(sa), param(sb)},
           .reference = binary(b.f)});
  auto divide = [](double a, double b) { return a / b; };
  add({.op = OpKind::div,
       .label = "[3,4] by [3,4]",
       .operands = {param({3, 4}), param({3, 4}, Domain::away_from_zero())},
       .reference = binary(divide)});
  add({.op = OpKind::div,
       .label = "[3,4] by a scalar",
       .operands = {param({3, 4}), param({}, Domain::away_from_zero())},
       .reference = binary(divide)});
  add({.op = OpKind::div,
       .label = "[5] by [5]",
       .operands = {param({5}), param({5}, Domain::away_from_zero())},
       .reference = binary(divide)});

  // ---- elementwise unary, each on a matrix, a size-1 rank-3 shape and a scalar.
  struct Unary {
    OpKind op;
    double (*f)(double);
    Domain domain;
    double tolerance;
  };
  const Unary unaries[] = {
      {OpKind::neg, [](double x) { return -x; }, Domain::any(), 0.0},
      {OpKind::relu, [](double x) { return x > 0 ? x : 0.0; }, Domain::away_from_zero(), 0.0},
      {OpKind::sigmoid, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, Domain{0.0, 4.0, true}, 1.0},
      {OpKind::tanh, [](double x) { return std::tanh(x); }, Domain{0.0, 3.0, true}, 1.0},
      {OpKind::exp, [](double x) { return std::exp(x); }, Domain{0.0, 3.0, true}, 1.0},
      {OpKind::log, [](double x) { return std::log(x); }, Domain{0.05, 20.0, false}, 1.0},
      {OpKind::square, [](double x) { return x * x; }, Domain::any(), 1.0},
      {OpKind::softplus, [](double x) { return std::log1p(std::exp(x)); }, Domain{0.0, 8.0, true}, 1.0},
      {OpKind::sqrt, [](double x) { return std::sqrt(x); }, Domain{0.1, 9.0, false}, 1.0},
      {OpKind::reciprocal, [](double x) { return 1.0 / x; }, Domain{0.2, 5.0, true}, 1.0},
      {OpKind::abs, [](double x) { return x < 0 ? -x : x; }, Domain::away_from_zero(), 0.0},
      {OpKind::sign, [](double x) { return x > 0 ? 1.0 : -1.0; }, Domain::away_from_zero(), 0.0},
      // erf by its Maclaurin series in long double (|x| <= 2.5: 60 terms are plenty).
      {OpKind::erf,
       [](double x) {
         long double term = x, sum = x;  // term n: (-1)^n x^(2n+1) / n!
         for (int n = 1; n < 60; ++n) {
           term *= -static_cast<long double>(x) * x / n;
           sum += term / (2 * n + 1);
         }
         return static_cast<double>(sum * 1.1283791670955125739L);
       },
       Domain{0.0, 2.5, true}, 1.0},
  };
  for (const Unary& u : unaries)
    for (Shape s : {Shape{3, 4}, Shape{1, 1, 5}, Shape{}})
      add({.op = u.op,
           .label = s.str(),
           .operands = {param(s, u.domain)},
           .reference = unary(u.f),
           .tolerance = u.tolerance});
  for (double factor : {-2.5, 0.1})
    add({.op = OpKind::scale,
         .label = "factor " + std::to_string(factor),
         .operands = {param({3, 4})},
         .reference =
             [](const RefArgs& r) {
               Values out;
               for (double x : r.in[0]) out.push_back(r.attrs.factor * x);
               return out;
             },
         .attrs = [factor](Attrs& a) { a.factor = factor; }});

  // ---- reductions over every axis form.
  for (OpKind op : {OpKind::sum, OpKind::mean})
    for (auto [shape, ax] : {std::pair<Shape, std::optional<int>>{{3, 4}, std::nullopt},
                             {{3, 4}, 0},
                             {{2, 3, 4}, 1},
                             {{2, 3, 4}, -1},
                             {{1, 4}, 0},
                             {{}, std::nullopt}})
      add({.op = op,
           .label = shape.str() + " " + axis_label(ax),
           .operands = {param(shape)},
           .reference =
               [op](const RefArgs& r) { return reduce(r.in[0], r.shapes[0], r.attrs.axis, op == OpKind::mean); },
           .attrs = axis(ax)});

  // ---- linear algebra: every transpose combination, size-1 dimensions.
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [m, k, n] : {std::tuple{3, 4, 5}, std::tuple{1, 4, 2}, std::tuple{3, 1, 2}}) {
        Shape sa = ta ? Shape{k, m} : Shape{m, k}, sb = tb ? Shape{n, k} : Shape{k, n};
        add({.op = OpKind::matmul,
             .label = sa.str() + (ta ? "ᵀ" : "") + " x " + sb.str() + (tb ? "ᵀ" : ""),
             .operands = {param(sa), param(sb)},
             .reference =
                 [](const RefArgs& r) {
                   return matmul(r.in[0], r.shapes[0], r.in[1], r.shapes[1], r.attrs.transpose_a, r.attrs.transpose_b);
                 },
             .attrs =
                 [ta, tb](Attrs& a) {
                   a.transpose_a = ta;
                   a.transpose_b = tb;
                 },
             .tolerance = 4 * std::sqrt(double(k))});
      }
  auto inner_product = [](const RefArgs& r) {
    return Values{std::inner_product(r.in[0].begin(), r.in[0].end(), r.in[1].begin(), 0.0)};
  };
  add({.op = OpKind::dot,
       .label = "[5]",
       .operands = {param({5}), param({5})},
       .reference = inner_product,
       .tolerance = 4 * std::sqrt(5.0)});
  add({.op = OpKind::dot, .label = "[1]", .operands = {param({1}), param({1})}, .reference = inner_product});
  for (auto [m, k, n] : {std::tuple{3, 4, 5}, std::tuple{1, 4, 1}})
    for (OpKind op : {OpKind::affine, OpKind::affine_relu})
      add({.op = op,
           .label = Shape{m, k}.str() + " x " + Shape{k, n}.str() + " + " + Shape{n}.str(),
           .operands = {param({m, k}), param({k, n}), param({n})},
           .reference = [op](const RefArgs& r) { return affine(r, op == OpKind::affine_relu); },
           .tolerance = 4 * std::sqrt(double(k))});

  // ---- classification.
  for (OpKind op : {OpKind::softmax, OpKind::log_softmax})
    for (auto [shape, ax] : {std::pair<Shape, std::optional<int>>{{3, 4}, std::nullopt},
                             {{3, 4}, 0},
                             {{2, 3, 2}, 1},
                             {{5}, std::nullopt},
                             {{3, 1}, -1}})
      add({.op = op,
           .label = shape.str() + " " + axis_label(ax),
           .operands = {param(shape, Domain{0.0, 3.0, true})},
           .reference =
               [op](const RefArgs& r) {
                 return softmax(r.in[0], r.shapes[0], r.attrs.axis, op == OpKind::log_softmax);
               },
           .attrs = axis(ax)});
  const Values soft_targets = {0.5, 0.5, 0.0, 0.0, 0.2, 0.8, 1.0, 0.0, 0.0, 0.1, 0.3, 0.6};
  const Values one_hot = {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  add({.op = OpKind::cross_entropy,
       .label = "labels",
       .operands = {param({4, 3}, Domain::probability()), labels(3, {2, 0, 1, 2})},
       .reference = cross_entropy});
  add({.op = OpKind::cross_entropy,
       .label = "one-hot",
       .operands = {param({4, 3}, Domain::probability()), input({4, 3}, one_hot)},
       .reference = cross_entropy});
  add({.op = OpKind::cross_entropy,
       .label = "soft targets",
       .operands = {param({4, 3}, Domain::probability()), input({4, 3}, soft_targets)},
       .reference = cross_entropy});
  add({.op = OpKind::softmax_cross_entropy,
       .label = "labels",
       .operands = {param({4, 3}, Domain{0.0, 3.0, true}), labels(3, {2, 0, 1, 2})},
       .reference = softmax_cross_entropy});
  add({.op = OpKind::softmax_cross_entropy,
       .label = "soft targets",
       .operands = {param({4, 3}, Domain{0.0, 3.0, true}), input({4, 3}, soft_targets)},
       .reference = softmax_cross_entropy});
  add({.op = OpKind::softmax_cross_entropy,
       .label = "one row",
       .operands = {param({1, 4}), labels(4, {3})},
       .reference = softmax_cross_entropy});
  add({.op = OpKind::softmax_cross_entropy,
       .label = "one class",
       .operands = {param({3, 1}), labels(1, {0, 0, 0})},
       .reference = softmax_cross_entropy});

  // ---- layout and regularisation.
  for (auto [from, dims] : {std::pair<Shape, std::vector<std::int64_t>>{{2, 1, 3, 2}, {0, -1}},
                            {{3, 4}, {2, 6}},
                            {{6}, {3, -1, 1}},
                            {{1, 1}, {}}})
    add({.op = OpKind::reshape,
         .label = from.str() + " to " + Shape(dims).str(),
         .operands = {param(from)},
         .reference = same_values,
         .attrs = [dims](Attrs& a) { a.dims = dims; },
         .tolerance = 0.0});
  for (Shape s : {Shape{3, 4}, Shape{}, Shape{2, 1, 3}})
    add({.op = OpKind::l2, .label = s.str(), .operands = {param(s)}, .reference = [](const RefArgs& r) {
           double total = 0;
           for (double x : r.in[0]) total += x * x;
           return Values{0.5 * total};
         }});

  // ---- the two-output loss and its projection.
  add({.op = OpKind::softmax_cross_entropy_with_grad,
       .label = "labels (loss output)",
       .operands = {input({4, 3}, Domain{0.0, 3.0, true}), labels(3, {1, 2, 0, 0})},
       .reference = softmax_cross_entropy});
  add({.op = OpKind::softmax_cross_entropy_with_grad,
       .label = "soft targets (loss output)",
       .operands = {input({4, 3}, Domain{0.0, 3.0, true}), input({4, 3}, soft_targets)},
       .reference = softmax_cross_entropy});
  Build gradient_of_fused_loss = [](Graph& g, const BuildArgs& b) {
    NodeId fused = g.add(OpKind::softmax_cross_entropy_with_grad, b.leaves, {}, "fused");
    return g.add(OpKind::get_output, {fused}, b.attrs, "y");
  };
  add({.op = OpKind::get_output,
       .label = "gradient of a fused loss, labels",
       .operands = {input({4, 3}, Domain{0.0, 3.0, true}), labels(3, {1, 2, 0, 0})},
       .reference = [](const RefArgs& r) { return softmax_cross_entropy_gradient(r, 1.0); },
       .attrs = [](Attrs& a) { a.index = 1; },
       .build = gradient_of_fused_loss});
  add({.op = OpKind::get_output,
       .label = "gradient of a fused loss, one row one-hot",
       .operands = {input({1, 4}), input({1, 4}, {0, 0, 1, 0})},
       .reference = [](const RefArgs& r) { return softmax_cross_entropy_gradient(r, 1.0); },
       .attrs = [](Attrs& a) { a.index = 1; },
       .build = gradient_of_fused_loss});

  // ---- backward helpers.
  auto sum_of_all = [](const RefArgs& r) {
    Values out(count(r.out), 0.0);
    for (const Values& v : r.in)
      for (std::size_t i = 0; i < out.size(); ++i) out[i] += v[i];
    return out;
  };
  for (int operands : {1, 3, 5, 9}) {
    std::vector<Operand> xs;
    for (int k = 0; k < operands; ++k) xs.push_back(param({2, 3}));
    // Past 4 operands the kernel sums in groups of 4 over tiles of the output.
    add({.op = OpKind::add_n,
         .label = std::to_string(operands) + " operands",
         .operands = xs,
         .reference = sum_of_all,
         .tolerance = 4});
  }
  for (auto [to, ax] : {std::pair<Shape, std::optional<int>>{{2, 3}, std::nullopt},
                        {{3, 4}, 1},
                        {{2, 4}, 0},
                        {{2, 3, 5}, 1},
                        {{2, 3, 5}, -1}}) {
    std::vector<std::int64_t> reduced;
    if (ax) {
      reduced = to.dims();
      reduced.erase(reduced.begin() + (*ax < 0 ? *ax + static_cast<int>(to.rank()) : *ax));
    }
    add({.op = OpKind::expand,
         .label = Shape(reduced).str() + " to " + to.str() + " " + axis_label(ax),
         .operands = {param(Shape(reduced))},
         .reference =
             [](const RefArgs& r) {
               Values out(count(r.out));
               if (!r.attrs.axis) {
                 std::fill(out.begin(), out.end(), r.in[0][0]);
                 return out;
               }
               Lanes l = lanes(r.out, r.attrs.axis);
               for (std::size_t o = 0; o < l.outer; ++o)
                 for (std::size_t k = 0; k < l.n; ++k)
                   for (std::size_t i = 0; i < l.inner; ++i) out[l.at(o, k, i)] = r.in[0][o * l.inner + i];
               return out;
             },
         .attrs = axis(ax),
         .shape = to,
         .tolerance = 0.0});
  }
  add({.op = OpKind::relu_grad,
       .label = "[3,4]",
       .operands = {input({3, 4}), input({3, 4}, Domain{0.0, 2.0, true})},
       .reference =
           [](const RefArgs& r) {
             Values out;
             for (std::size_t i = 0; i < r.in[0].size(); ++i) out.push_back(r.in[1][i] > 0 ? r.in[0][i] : 0.0);
             return out;
           },
       .tolerance = 0.0});
  // relu's output exactly 0 (the kink) passes no gradient.
  add({.op = OpKind::relu_grad,
       .label = "at the kink",
       .operands = {input({2, 3}, Values{0.5, -1.0, 2.0, 1.5, 0.25, -3.0}),
                    input({2, 3}, Values{0.0, 1.0, 0.0, 2.0, 0.0, 0.5})},
       .reference =
           [](const RefArgs& r) {
             Values out;
             for (std::size_t i = 0; i < r.in[0].size(); ++i) out.push_back(r.in[1][i] > 0 ? r.in[0][i] : 0.0);
             return out;
           },
       .tolerance = 0.0});
  // The vector-Jacobian products along each lane: softmax s gives
  // dx_j = s_j (dy_j − Σ_k dy_k s_k); log-softmax ls gives dx_j = dy_j − e^{ls_j} Σ_k dy_k.
  for (auto [shape, ax] : {std::pair<Shape, std::optional<int>>{{3, 4}, std::nullopt}, {{3, 4}, 0}, {{2, 3, 2}, 1}}) {
    add({.op = OpKind::softmax_grad,
         .label = shape.str() + " " + axis_label(ax),
         .operands = {input(shape), input(shape, Domain{0.05, 0.95, false})},
         .reference =
             [](const RefArgs& r) {
               Lanes l = lanes(r.shapes[0], r.attrs.axis);
               Values out(r.in[0].size());
               for (std::size_t o = 0; o < l.outer; ++o)
                 for (std::size_t i = 0; i < l.inner; ++i) {
                   double dot = 0;
                   for (std::size_t k = 0; k < l.n; ++k) dot += r.in[0][l.at(o, k, i)] * r.in[1][l.at(o, k, i)];
                   for (std::size_t j = 0; j < l.n; ++j)
                     out[l.at(o, j, i)] = r.in[1][l.at(o, j, i)] * (r.in[0][l.at(o, j, i)] - dot);
                 }
               return out;
             },
         .attrs = axis(ax),
         .tolerance = 4});
    add({.op = OpKind::log_softmax_grad,
         .label = shape.str() + " " + axis_label(ax),
         .operands = {input(shape), input(shape, Domain{0.1, 3.0, true})},
         .reference =
             [](const RefArgs& r) {
               Lanes l = lanes(r.shapes[0], r.attrs.axis);
               Values out(r.in[0].size());
               for (std::size_t o = 0; o < l.outer; ++o)
                 for (std::size_t i = 0; i < l.inner; ++i) {
                   double total = 0;
                   for (std::size_t k = 0; k < l.n; ++k) total += r.in[0][l.at(o, k, i)];
                   for (std::size_t j = 0; j < l.n; ++j)
                     out[l.at(o, j, i)] = r.in[0][l.at(o, j, i)] - std::exp(r.in[1][l.at(o, j, i)]) * total;
                 }
               return out;
             },
         .attrs = axis(ax),
         .tolerance = 4});
  }
  // −t/(p·rows)·dloss.
  auto cross_entropy_grad = [](const RefArgs& r) {
    Values t = dense_targets(r.in[1], r.shapes[1], r.shapes[0]);
    Values out(t.size());
    for (std::size_t i = 0; i < t.size(); ++i)
      out[i] = -t[i] / (r.in[0][i] * static_cast<double>(r.shapes[0][0])) * r.in[2][0];
    return out;
  };
  add({.op = OpKind::cross_entropy_grad,
       .label = "labels",
       .operands = {input({4, 3}, Domain::probability()), labels(3, {2, 0, 1, 2}), input({}, Values{0.7})},
       .reference = cross_entropy_grad});
  add({.op = OpKind::cross_entropy_grad,
       .label = "one-hot",
       .operands = {input({4, 3}, Domain::probability()), input({4, 3}, one_hot), input({}, Values{1.0})},
       .reference = cross_entropy_grad});
  add({.op = OpKind::cross_entropy_grad,
       .label = "soft targets",
       .operands = {input({4, 3}, Domain::probability()), input({4, 3}, soft_targets), input({}, Values{-1.5})},
       .reference = cross_entropy_grad});
  auto softmax_cross_entropy_grad = [](const RefArgs& r) { return softmax_cross_entropy_gradient(r, r.in[2][0]); };
  add({.op = OpKind::softmax_cross_entropy_grad,
       .label = "labels",
       .operands = {input({4, 3}, Domain{0.0, 3.0, true}), labels(3, {1, 0, 0, 2}), input({}, Values{-1.5})},
       .reference = softmax_cross_entropy_grad,
       .tolerance = 4});
  add({.op = OpKind::softmax_cross_entropy_grad,
       .label = "soft targets",
       .operands = {input({4, 3}, Domain{0.0, 3.0, true}), input({4, 3}, soft_targets), input({}, Values{0.5})},
       .reference = softmax_cross_entropy_grad,
       .tolerance = 4});

  // ---- optimizer updates: operand 0 is persistent state (a param).
  add({.op = OpKind::sgd_update,
       .label = "[3,4] with weight decay",
       .operands = {param({3, 4}), input({3, 4})},
       .reference =
           [](const RefArgs& r) {
             Values out;
             const double lr = r.attrs.lr, wd = r.attrs.weight_decay;
             for (std::size_t i = 0; i < r.in[0].size(); ++i)
               out.push_back(r.in[0][i] - lr * (r.in[1][i] + wd * r.in[0][i]));
             return out;
           },
       .attrs =
           [](Attrs& a) {
             a.lr = 0.125;
             a.weight_decay = 0.0625;
           }});
  add({.op = OpKind::momentum_update,
       .label = "[3,4]",
       .operands = {param({3, 4}), input({3, 4}), input({3, 4})},
       .reference =
           [](const RefArgs& r) {
             Values out;
             for (std::size_t i = 0; i < r.in[0].size(); ++i)
               out.push_back(r.attrs.momentum * r.in[0][i] + r.in[1][i] + r.attrs.weight_decay * r.in[2][i]);
             return out;
           },
       .attrs =
           [](Attrs& a) {
             a.momentum = 0.75;
             a.weight_decay = 0.0625;
           }});
  add({.op = OpKind::ema_update,
       .label = "[3,4]",
       .operands = {param({3, 4}), input({3, 4}), input({3, 4})},
       .reference =
           [](const RefArgs& r) {
             Values out;
             const double b = r.attrs.beta1;
             for (std::size_t i = 0; i < r.in[0].size(); ++i)
               out.push_back(b * r.in[0][i] + (1 - b) * (r.in[1][i] + r.attrs.weight_decay * r.in[2][i]));
             return out;
           },
       .attrs =
           [](Attrs& a) {
             a.beta1 = 0.8;
             a.weight_decay = 0.0625;
           }});
  add({.op = OpKind::ema_square_update,
       .label = "[3,4]",
       .operands = {param({3, 4}, Domain::positive()), input({3, 4}), input({3, 4})},
       .reference =
           [](const RefArgs& r) {
             Values out;
             const double b = r.attrs.beta2;
             for (std::size_t i = 0; i < r.in[0].size(); ++i) {
               const double d = r.in[1][i] + r.attrs.weight_decay * r.in[2][i];
               out.push_back(b * r.in[0][i] + (1 - b) * d * d);
             }
             return out;
           },
       .attrs =
           [](Attrs& a) {
             a.beta2 = 0.95;
             a.weight_decay = 0.0625;
           }});
  add({.op = OpKind::step_count,
       .label = "from 2",
       .operands = {param({}, Values{2})},
       .reference = [](const RefArgs& r) { return Values{r.in[0][0] + 1}; },
       .tolerance = 0.0});
  for (double t : {1.0, 5.0})
    add({.op = OpKind::adam_update,
         .label = "step " + std::to_string(int(t)),
         .operands = {param({3, 4}), param({3, 4}), param({3, 4}, Domain::positive()), param({}, Values{t})},
         .reference =
             [](const RefArgs& r) {
               const double t = r.in[3][0];
               const double c1 = 1 - std::pow(r.attrs.beta1, t), c2 = 1 - std::pow(r.attrs.beta2, t);
               Values out;
               for (std::size_t i = 0; i < r.in[0].size(); ++i) {
                 const double m_hat = r.in[1][i] / c1, v_hat = r.in[2][i] / c2;
                 out.push_back(r.in[0][i] - r.attrs.lr * m_hat / (std::sqrt(v_hat) + r.attrs.eps));
               }
               return out;
             },
         .attrs =
             [](Attrs& a) {
               a.lr = 0.125;
               a.beta1 = 0.8;
               a.beta2 = 0.95;
               a.eps = 1e-3;
             },
         .tolerance = 4});
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      // P [3,5] -= lr·(op(A)·op(B) + wd·P) with inner dimension 4.
      Shape sa = ta ? Shape{4, 3} : Shape{3, 4}, sb = tb ? Shape{5, 4} : Shape{4, 5};
      add({.op = OpKind::sgd_matmul_update,
           .label = std::string("ta=") + (ta ? "1" : "0") + " tb=" + (tb ? "1" : "0"),
           .operands = {param({3, 5}), input(sa), input(sb)},
           .reference =
               [](const RefArgs& r) {
                 Values g =
                     matmul(r.in[1], r.shapes[1], r.in[2], r.shapes[2], r.attrs.transpose_a, r.attrs.transpose_b);
                 Values out;
                 for (std::size_t i = 0; i < g.size(); ++i)
                   out.push_back(r.in[0][i] - r.attrs.lr * (g[i] + r.attrs.weight_decay * r.in[0][i]));
                 return out;
               },
           .attrs =
               [ta, tb](Attrs& a) {
                 a.lr = 0.125;
                 a.weight_decay = 0.0625;
                 a.transpose_a = ta;
                 a.transpose_b = tb;
               },
           .tolerance = 8});
    }

  // ---- data-parallel reduction, over a communicator of one rank: the sum
  // over the ranks is the value itself.
  add({.op = OpKind::allreduce_start,
       .label = "one gradient",
       .operands = {input({3, 4})},
       .reference = concatenated,
       .build = allreduce_pair(OpKind::allreduce_start),
       .tolerance = 0.0});
  add({.op = OpKind::allreduce_start,
       .label = "a bucket of three",
       .operands = {input({3}), input({2, 2}), input({})},
       .reference = concatenated,
       .build = allreduce_pair(OpKind::allreduce_start),
       .tolerance = 0.0});
  auto scaled_concatenation = [](const RefArgs& r) {
    Values out = concatenated(r);
    for (double& v : out) v *= r.attrs.factor;
    return out;
  };
  add({.op = OpKind::allreduce_wait,
       .label = "one gradient, mean of 4",
       .operands = {input({3, 4})},
       .reference = scaled_concatenation,
       .attrs = [](Attrs& a) { a.factor = 0.25; },
       .build = allreduce_pair(OpKind::allreduce_wait)});
  add({.op = OpKind::allreduce_wait,
       .label = "a bucket of two",
       .operands = {input({3}), input({2, 2})},
       .reference = scaled_concatenation,
       .attrs = [](Attrs& a) { a.factor = 0.5; },
       .build = allreduce_pair(OpKind::allreduce_wait)});
  // A slice of a reduced bucket [v (3), m (2x2)].
  for (auto [shape, offset] : {std::pair<Shape, std::int64_t>{{3}, 0}, {{2, 2}, 3}, {{2}, 2}})
    add({.op = OpKind::allreduce_slice,
         .label = shape.str() + " from " + std::to_string(offset),
         .operands = {input({3}), input({2, 2})},
         .reference =
             [](const RefArgs& r) {
               Values all = concatenated(r);
               auto first = all.begin() + r.attrs.offset;
               return Values(first, first + static_cast<std::ptrdiff_t>(count(r.out)));
             },
         .attrs = [offset](Attrs& a) { a.offset = offset; },
         .shape = shape,
         .build =
             [](Graph& g, const BuildArgs& b) {
               NodeId start = g.add(OpKind::allreduce_start, b.leaves, {}, "bucket");
               NodeId wait = g.add(OpKind::allreduce_wait, {start}, {}, "reduced");
               return g.add_explicit(OpKind::allreduce_slice, {wait}, *b.shape, b.dtype, b.attrs, "y");
             },
         .tolerance = 0.0});
  return rows;
}

}  // namespace

const std::vector<OpRow>& op_table() {
  static const std::vector<OpRow> rows = make_rows();
  return rows;
}

}  // namespace kiln::optable
