#include "passes/constant_eval.hpp"

#include <cmath>
#include <cstddef>

namespace kiln {
namespace {

double round_to(DType t, double v) { return t == DType::f32 ? static_cast<double>(static_cast<float>(v)) : v; }

std::vector<double> values_of(const Node& constant, DType t) {
  std::vector<double> out = constant.attrs.value;
  for (double& v : out) v = round_to(t, v);
  return out;
}

// Row-major index arithmetic for one axis: a shape seen as
// [outer, length, inner] around `axis`.
struct AxisSplit {
  std::size_t outer = 1, length = 1, inner = 1;
  AxisSplit(const Shape& s, int axis) {
    for (int i = 0; i < static_cast<int>(s.rank()); ++i) {
      auto d = static_cast<std::size_t>(s[static_cast<std::size_t>(i)]);
      if (i < axis) outer *= d;
      else if (i == axis) length = d;
      else inner *= d;
    }
  }
};

int normalised(int axis, std::size_t rank) { return axis < 0 ? axis + static_cast<int>(rank) : axis; }

std::vector<double> reduce_sum(const std::vector<double>& x, const Shape& shape, std::optional<int> axis) {
  if (!axis) {
    double s = 0;
    for (double v : x) s += v;
    return {s};
  }
  AxisSplit split(shape, normalised(*axis, shape.rank()));
  std::vector<double> out(split.outer * split.inner, 0.0);
  for (std::size_t o = 0; o < split.outer; ++o)
    for (std::size_t j = 0; j < split.length; ++j)
      for (std::size_t i = 0; i < split.inner; ++i) out[o * split.inner + i] += x[(o * split.length + j) * split.inner + i];
  return out;
}

std::vector<double> expand(const std::vector<double>& x, const Shape& to, std::optional<int> axis) {
  auto n = static_cast<std::size_t>(to.numel());
  if (!axis) return std::vector<double>(n, x[0]);
  AxisSplit split(to, normalised(*axis, to.rank()));
  std::vector<double> out(n);
  for (std::size_t o = 0; o < split.outer; ++o)
    for (std::size_t j = 0; j < split.length; ++j)
      for (std::size_t i = 0; i < split.inner; ++i) out[(o * split.length + j) * split.inner + i] = x[o * split.inner + i];
  return out;
}

// a ⊙ b with b a scalar, equal-shaped, or a trailing part of a's shape: in
// row-major order b's element for a's element i is then b[i mod |b|].
template <class F>
std::vector<double> broadcast(const std::vector<double>& a, const std::vector<double>& b, F f) {
  std::vector<double> out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = f(a[i], b[i % b.size()]);
  return out;
}

template <class F>
std::vector<double> map(std::vector<double> x, F f) {
  for (double& v : x) v = f(v);
  return x;
}

}  // namespace

bool can_fold(OpKind op) {
  switch (op) {
    case OpKind::add: case OpKind::sub: case OpKind::mul: case OpKind::div:
    case OpKind::neg: case OpKind::scale: case OpKind::relu: case OpKind::sigmoid:
    case OpKind::tanh: case OpKind::exp: case OpKind::log: case OpKind::square:
    case OpKind::sum: case OpKind::mean: case OpKind::expand: case OpKind::add_n:
    case OpKind::dot: case OpKind::l2: case OpKind::reshape:
      return true;
    default:
      return false;
  }
}

std::optional<std::vector<double>> evaluate_constant(const Node& node, const std::vector<const Node*>& operands) {
  if (!can_fold(node.op)) return std::nullopt;
  DType t = node.dtype;
  std::vector<std::vector<double>> in;
  for (const Node* o : operands) in.push_back(values_of(*o, t));
  const Attrs& attrs = node.attrs;
  std::vector<double> out;
  switch (node.op) {
    case OpKind::add: out = broadcast(in[0], in[1], [](double a, double b) { return a + b; }); break;
    case OpKind::sub: out = broadcast(in[0], in[1], [](double a, double b) { return a - b; }); break;
    case OpKind::mul: out = broadcast(in[0], in[1], [](double a, double b) { return a * b; }); break;
    case OpKind::div: out = broadcast(in[0], in[1], [](double a, double b) { return a / b; }); break;
    case OpKind::neg: out = map(in[0], [](double v) { return -v; }); break;
    case OpKind::scale: out = map(in[0], [f = attrs.factor](double v) { return f * v; }); break;
    case OpKind::relu: out = map(in[0], [](double v) { return v > 0 ? v : 0.0; }); break;
    case OpKind::sigmoid: out = map(in[0], [](double v) { return 1.0 / (1.0 + std::exp(-v)); }); break;
    case OpKind::tanh: out = map(in[0], [](double v) { return std::tanh(v); }); break;
    case OpKind::exp: out = map(in[0], [](double v) { return std::exp(v); }); break;
    case OpKind::log: out = map(in[0], [](double v) { return std::log(v); }); break;
    case OpKind::square: out = map(in[0], [](double v) { return v * v; }); break;
    case OpKind::sum: out = reduce_sum(in[0], operands[0]->shape, attrs.axis); break;
    case OpKind::mean: {
      out = reduce_sum(in[0], operands[0]->shape, attrs.axis);
      double n = static_cast<double>(in[0].size()) / static_cast<double>(out.size());
      for (double& v : out) v /= n;
      break;
    }
    case OpKind::expand: out = expand(in[0], node.shape, attrs.axis); break;
    case OpKind::reshape: out = in[0]; break;  // row-major order is unchanged
    case OpKind::add_n: {
      out = in[0];
      for (std::size_t k = 1; k < in.size(); ++k)
        for (std::size_t i = 0; i < out.size(); ++i) out[i] += in[k][i];
      break;
    }
    case OpKind::dot: {
      double s = 0;
      for (std::size_t i = 0; i < in[0].size(); ++i) s += in[0][i] * in[1][i];
      out = {s};
      break;
    }
    case OpKind::l2: {
      double s = 0;
      for (double v : in[0]) s += v * v;
      out = {0.5 * s};
      break;
    }
    default:
      return std::nullopt;
  }
  for (double& v : out) v = round_to(t, v);
  return out;
}

}  // namespace kiln
