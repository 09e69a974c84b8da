// One gradient rule per op, each a vector-Jacobian product written with graph
// ops. `dy` is the gradient of the loss with respect to the node's output.
#include "passes/gradient_rules.hpp"

#include <array>

#include "graph/error.hpp"

namespace kiln {
namespace {

Attrs axis_attr(std::optional<int> axis) {
  Attrs a;
  a.axis = axis;
  return a;
}

Attrs transposes(bool a, bool b) {
  Attrs attrs;
  attrs.transpose_a = a;
  attrs.transpose_b = b;
  return attrs;
}

Attrs factor(double f) {
  Attrs a;
  a.factor = f;
  return a;
}

// Operand k of a broadcasting op receives `term` (shaped like the output)
// summed down to its own shape: over everything for a scalar, over the
// leading axes for a trailing vector (the bias gradient).
void contribute_reduced(GradContext& ctx, int k, NodeId term) {
  const Shape& target = ctx.in(k).shape;
  const Shape& have = ctx.graph()[term].shape;
  if (have == target) {
    ctx.contribute(k, term);
    return;
  }
  if (target.is_scalar()) {
    ctx.make_for(k, OpKind::sum, {term});
    return;
  }
  std::size_t extra = have.rank() - target.rank();
  for (std::size_t i = 0; i + 1 < extra; ++i) term = ctx.make(OpKind::sum, {term}, axis_attr(0));
  ctx.make_for(k, OpKind::sum, {term}, axis_attr(0));
}

// Like contribute_reduced, negated; reducing first keeps the negation small.
void contribute_reduced_negated(GradContext& ctx, int k, NodeId term) {
  const Shape& target = ctx.in(k).shape;
  if (ctx.graph()[term].shape != target) {
    if (target.is_scalar()) {
      term = ctx.make(OpKind::sum, {term});
    } else {
      std::size_t extra = ctx.graph()[term].shape.rank() - target.rank();
      for (std::size_t i = 0; i < extra; ++i) term = ctx.make(OpKind::sum, {term}, axis_attr(0));
    }
  }
  ctx.make_for(k, OpKind::neg, {term});
}

void affine_backward(GradContext& ctx, NodeId g) {
  NodeId x = ctx.input(0), w = ctx.input(1);
  if (ctx.needs(0)) ctx.make_for(0, OpKind::matmul, {g, w}, transposes(false, true));
  if (ctx.needs(1)) ctx.make_for(1, OpKind::matmul, {x, g}, transposes(true, false));
  if (ctx.needs(2)) ctx.make_for(2, OpKind::sum, {g}, axis_attr(0));
}

void not_differentiable_in(GradContext& ctx, int k, const char* what) {
  if (ctx.needs(k))
    throw Error(describe(ctx.graph(), ctx.node()) + ": has no gradient with respect to its " + what + " '" +
                ctx.in(k).name + "'");
}

}  // namespace

namespace grad {

// Leaves have no operands, so nothing to pass a gradient to.
constexpr GradRule input = nullptr;
constexpr GradRule labels = nullptr;
constexpr GradRule param = nullptr;
constexpr GradRule constant = nullptr;

// The backward helpers are not differentiated again (no second derivatives
// in v1); a graph that needs one fails to compile with the node named.
constexpr GradRule relu_grad = nullptr;
constexpr GradRule softmax_grad = nullptr;
constexpr GradRule log_softmax_grad = nullptr;
constexpr GradRule cross_entropy_grad = nullptr;
constexpr GradRule softmax_cross_entropy_grad = nullptr;

// Made by fuse_backward after autodiff (the loss and its gradient at once),
// so never differentiated; get_output names such a node's further outputs.
constexpr GradRule softmax_cross_entropy_with_grad = nullptr;
constexpr GradRule get_output = nullptr;

// Optimizer updates come after autodiff and are never differentiated.
constexpr GradRule sgd_update = nullptr;
constexpr GradRule momentum_update = nullptr;
constexpr GradRule ema_update = nullptr;
constexpr GradRule ema_square_update = nullptr;
constexpr GradRule step_count = nullptr;
constexpr GradRule adam_update = nullptr;
constexpr GradRule sgd_matmul_update = nullptr;

// The data-parallel reduction comes after the optimizer update (passes/
// allreduce.hpp) and is never differentiated.
constexpr GradRule allreduce_start = nullptr;
constexpr GradRule allreduce_wait = nullptr;
constexpr GradRule allreduce_slice = nullptr;

void add(GradContext& c) {
  if (c.needs(0)) c.contribute(0, c.dy());
  if (c.needs(1)) contribute_reduced(c, 1, c.dy());
}

void sub(GradContext& c) {
  if (c.needs(0)) c.contribute(0, c.dy());
  if (c.needs(1)) contribute_reduced_negated(c, 1, c.dy());
}

void mul(GradContext& c) {
  if (c.needs(0)) c.make_for(0, OpKind::mul, {c.dy(), c.input(1)});
  if (c.needs(1)) contribute_reduced(c, 1, c.make(OpKind::mul, {c.dy(), c.input(0)}));
}

// y = a / b: da = dy / b, db = -dy·y / b.
void div(GradContext& c) {
  if (c.needs(0)) c.make_for(0, OpKind::div, {c.dy(), c.input(1)});
  if (c.needs(1)) {
    NodeId t = c.make(OpKind::mul, {c.dy(), c.node()});
    contribute_reduced_negated(c, 1, c.make(OpKind::div, {t, c.input(1)}));
  }
}

void neg(GradContext& c) { c.make_for(0, OpKind::neg, {c.dy()}); }
void scale(GradContext& c) { c.make_for(0, OpKind::scale, {c.dy()}, factor(c.self().attrs.factor)); }

// relu_grad reads relu's output: y > 0 exactly where x > 0.
void relu(GradContext& c) { c.make_for(0, OpKind::relu_grad, {c.dy(), c.node()}); }

// σ' = σ − σ²
void sigmoid(GradContext& c) {
  NodeId s2 = c.make(OpKind::square, {c.node()});
  NodeId ds = c.make(OpKind::sub, {c.node(), s2});
  c.make_for(0, OpKind::mul, {c.dy(), ds});
}

// tanh' = 1 − t²: dx = dy − dy·t²
void tanh(GradContext& c) {
  NodeId t2 = c.make(OpKind::square, {c.node()});
  NodeId m = c.make(OpKind::mul, {c.dy(), t2});
  c.make_for(0, OpKind::sub, {c.dy(), m});
}

void exp(GradContext& c) { c.make_for(0, OpKind::mul, {c.dy(), c.node()}); }
void log(GradContext& c) { c.make_for(0, OpKind::div, {c.dy(), c.input(0)}); }

void square(GradContext& c) {
  NodeId t = c.make(OpKind::mul, {c.dy(), c.input(0)});
  c.make_for(0, OpKind::scale, {t}, factor(2.0));
}

// softplus' = σ
void softplus(GradContext& c) { c.make_for(0, OpKind::mul, {c.dy(), c.make(OpKind::sigmoid, {c.input(0)})}); }

// sqrt' = 1 / (2·sqrt(x)): dy / y, halved.
void sqrt(GradContext& c) { c.make_for(0, OpKind::div, {c.make(OpKind::scale, {c.dy()}, factor(0.5)), c.node()}); }

// (1/x)' = −1/x² = −y²
void reciprocal(GradContext& c) {
  c.make_for(0, OpKind::neg, {c.make(OpKind::mul, {c.dy(), c.make(OpKind::square, {c.node()})})});
}

// |x|' = sign(x), 0 at 0 as in PyTorch.
void abs(GradContext& c) { c.make_for(0, OpKind::mul, {c.dy(), c.make(OpKind::sign, {c.input(0)})}); }

// Zero wherever it is defined, as in PyTorch: the contribution is 0·dy.
void sign(GradContext& c) { c.make_for(0, OpKind::scale, {c.dy()}, factor(0.0)); }

// erf' = 2/√π · e^(−x²)
void erf(GradContext& c) {
  NodeId gauss = c.make(OpKind::exp, {c.make(OpKind::neg, {c.make(OpKind::square, {c.input(0)})})});
  c.make_for(0, OpKind::mul, {c.dy(), c.make(OpKind::scale, {gauss}, factor(1.1283791670955126))});
}

void sum(GradContext& c) {
  c.make_expand(c.dy(), c.in(0).shape, c.self().attrs.axis, 0);
}

// Scale before expanding: the reduced tensor is the small one.
void mean(GradContext& c) {
  double n = static_cast<double>(c.in(0).shape.numel()) / static_cast<double>(c.self().shape.numel());
  NodeId s = c.make(OpKind::scale, {c.dy()}, factor(1.0 / n));
  c.make_expand(s, c.in(0).shape, c.self().attrs.axis, 0);
}

// For y = op(A)·op(B) the gradients of the stored operands are again single
// products with transpose flags, so no transposed copy is ever made.
void matmul(GradContext& c) {
  bool ta = c.self().attrs.transpose_a, tb = c.self().attrs.transpose_b;
  NodeId a = c.input(0), b = c.input(1), dy = c.dy();
  if (c.needs(0)) {
    if (!ta) c.make_for(0, OpKind::matmul, {dy, b}, transposes(false, !tb));
    else c.make_for(0, OpKind::matmul, {b, dy}, transposes(tb, true));
  }
  if (c.needs(1)) {
    if (!tb) c.make_for(1, OpKind::matmul, {a, dy}, transposes(!ta, false));
    else c.make_for(1, OpKind::matmul, {dy, a}, transposes(true, ta));
  }
}

void dot(GradContext& c) {
  if (c.needs(0)) c.make_for(0, OpKind::mul, {c.input(1), c.dy()});
  if (c.needs(1)) c.make_for(1, OpKind::mul, {c.input(0), c.dy()});
}

void softmax(GradContext& c) {
  c.make_for(0, OpKind::softmax_grad, {c.dy(), c.node()}, axis_attr(c.self().attrs.axis));
}

void log_softmax(GradContext& c) {
  c.make_for(0, OpKind::log_softmax_grad, {c.dy(), c.node()}, axis_attr(c.self().attrs.axis));
}

void cross_entropy(GradContext& c) {
  not_differentiable_in(c, 1, "targets");
  c.make_for(0, OpKind::cross_entropy_grad, {c.input(0), c.input(1), c.dy()});
}

// (softmax(z) − y) / N · dloss, one node, stable for logits of any size.
void softmax_cross_entropy(GradContext& c) {
  not_differentiable_in(c, 1, "targets");
  c.make_for(0, OpKind::softmax_cross_entropy_grad, {c.input(0), c.input(1), c.dy()});
}

// The gradient is dy's elements in the operand's shape, written out in full
// (no 0 or -1): the backward graph is already fixed to one batch size.
void reshape(GradContext& c) {
  Attrs to;
  to.dims = c.in(0).shape.dims();
  c.make_for(0, OpKind::reshape, {c.dy()}, to);
}

void l2(GradContext& c) { c.make_for(0, OpKind::mul, {c.input(0), c.dy()}); }

void affine(GradContext& c) { affine_backward(c, c.dy()); }

void affine_relu(GradContext& c) { affine_backward(c, c.make(OpKind::relu_grad, {c.dy(), c.node()})); }

void add_n(GradContext& c) {
  int n = static_cast<int>(c.graph().inputs(c.node()).size());
  for (int k = 0; k < n; ++k)
    if (c.needs(k)) c.contribute(k, c.dy());
}

void expand(GradContext& c) { c.make_for(0, OpKind::sum, {c.dy()}, axis_attr(c.self().attrs.axis)); }

}  // namespace grad

namespace {

constexpr std::array<GradRule, kOpCount> kRules = {{
#define KILN_OP(name, arity, attrs, category, rule, onnx) grad::name,
#include "graph/ops.def"
#undef KILN_OP
}};

}  // namespace

GradRule gradient_rule(OpKind op) { return kRules[static_cast<std::size_t>(op)]; }

}  // namespace kiln
