#include "passes/constant_eval.hpp"

#include <cmath>
#include <array>
#include <cstddef>

#include "graph/pointwise.hpp"

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

namespace {

// One entry per op: how it folds, or nullptr when it never does. `in` are
// the operands' values rounded to the node's dtype.
using Fold = std::vector<double> (*)(const Node& node, const std::vector<std::vector<double>>& in,
                                     const std::vector<const Node*>& operands);

namespace fold {

using In = std::vector<std::vector<double>>;
using Operands = std::vector<const Node*>;

// Leaves are what folding produces, not what it folds.
constexpr Fold input = nullptr;
constexpr Fold labels = nullptr;
constexpr Fold param = nullptr;
constexpr Fold constant = nullptr;

std::vector<double> add(const Node&, const In& in, const Operands&) {
  return broadcast(in[0], in[1], [](double a, double b) { return a + b; });
}
std::vector<double> sub(const Node&, const In& in, const Operands&) {
  return broadcast(in[0], in[1], [](double a, double b) { return a - b; });
}
std::vector<double> mul(const Node&, const In& in, const Operands&) {
  return broadcast(in[0], in[1], [](double a, double b) { return a * b; });
}
std::vector<double> div(const Node&, const In& in, const Operands&) {
  return broadcast(in[0], in[1], [](double a, double b) { return a / b; });
}
std::vector<double> scale(const Node& n, const In& in, const Operands&) {
  return map(in[0], [f = n.attrs.factor](double v) { return f * v; });
}

// Elementwise unary ops (KILN_POINTWISE) fold through their scalar function.
template <class F>
std::vector<double> pointwise_op(const Node&, const In& in, const Operands&) {
  return map(in[0], F{});
}

std::vector<double> sum(const Node& n, const In& in, const Operands& operands) {
  return reduce_sum(in[0], operands[0]->shape, n.attrs.axis);
}
std::vector<double> mean(const Node& n, const In& in, const Operands& operands) {
  std::vector<double> out = reduce_sum(in[0], operands[0]->shape, n.attrs.axis);
  double count = static_cast<double>(in[0].size()) / static_cast<double>(out.size());
  for (double& v : out) v /= count;
  return out;
}

// Ops that need a real kernel (GEMMs, the softmax family, the losses and
// their gradients) are never folded: passes may not depend on the runtime.
constexpr Fold matmul = nullptr;
std::vector<double> dot(const Node&, const In& in, const Operands&) {
  double s = 0;
  for (std::size_t i = 0; i < in[0].size(); ++i) s += in[0][i] * in[1][i];
  return {s};
}
constexpr Fold softmax = nullptr;
constexpr Fold log_softmax = nullptr;
constexpr Fold cross_entropy = nullptr;
constexpr Fold softmax_cross_entropy = nullptr;

std::vector<double> reshape(const Node&, const In& in, const Operands&) { return in[0]; }  // row-major order is kept

std::vector<double> l2(const Node&, const In& in, const Operands&) {
  double s = 0;
  for (double v : in[0]) s += v * v;
  return {0.5 * s};
}

constexpr Fold affine = nullptr;
constexpr Fold affine_relu = nullptr;
constexpr Fold softmax_cross_entropy_with_grad = nullptr;
constexpr Fold get_output = nullptr;

std::vector<double> add_n(const Node&, const In& in, const Operands&) {
  std::vector<double> out = in[0];
  for (std::size_t k = 1; k < in.size(); ++k)
    for (std::size_t i = 0; i < out.size(); ++i) out[i] += in[k][i];
  return out;
}
std::vector<double> expand(const Node& n, const In& in, const Operands&) { return kiln::expand(in[0], n.shape, n.attrs.axis); }

constexpr Fold relu_grad = nullptr;
constexpr Fold softmax_grad = nullptr;
constexpr Fold log_softmax_grad = nullptr;
constexpr Fold cross_entropy_grad = nullptr;
constexpr Fold softmax_cross_entropy_grad = nullptr;

// Updates overwrite persistent state and the reduction talks to other ranks:
// neither is a value of its operands alone.
constexpr Fold sgd_update = nullptr;
constexpr Fold momentum_update = nullptr;
constexpr Fold ema_update = nullptr;
constexpr Fold ema_square_update = nullptr;
constexpr Fold step_count = nullptr;
constexpr Fold adam_update = nullptr;
constexpr Fold sgd_matmul_update = nullptr;
constexpr Fold allreduce_start = nullptr;
constexpr Fold allreduce_wait = nullptr;
constexpr Fold allreduce_slice = nullptr;

}  // namespace fold

constexpr std::array<Fold, kOpCount> kFolds = {{
#define KILN_POINTWISE(name, onnx) &fold::pointwise_op<pointwise::name>,
#define KILN_OP(name, arity, attrs, category, rule, onnx) fold::name,
#include "graph/ops.def"
#undef KILN_OP
#undef KILN_POINTWISE
}};

}  // namespace

bool can_fold(OpKind op) { return kFolds[static_cast<std::size_t>(op)] != nullptr; }

std::optional<std::vector<double>> evaluate_constant(const Node& node, const std::vector<const Node*>& operands) {
  const Fold fold = kFolds[static_cast<std::size_t>(node.op)];
  if (!fold) return std::nullopt;
  DType t = node.dtype;
  std::vector<std::vector<double>> in;
  for (const Node* o : operands) in.push_back(values_of(*o, t));
  std::vector<double> out = fold(node, in, operands);
  for (double& v : out) v = round_to(t, v);
  return out;
}

}  // namespace kiln
