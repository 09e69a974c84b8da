#include "passes/fuse_forward.hpp"

#include <cmath>

#include "passes/pattern.hpp"

namespace kiln {
namespace {

using pattern::absorbable;

// A rule looks at the whole graph, records its rewrites and returns how many
// patterns it fused. The patterns one rule fuses never overlap (each absorbs
// nodes that only its own root reads), so one sweep applies them all.
// "affine": add(m, b) with m = matmul(x, W) -> affine(x, W, b), named like
// the add. Preconditions:
//   - the matmul has no transpose flags (affine has none);
//   - b is a vector [columns of W] (a bias over rows; add also accepts a
//     scalar or a full matrix, which affine does not), added as the second
//     operand;
//   - the matmul is absorbable: its only consumer is this add, and it is
//     not the loss, a gradient, an update or a kept node;
//   - x, W and b share the add's dtype.
int fuse_affine(const Graph& g, const Observers& obs, Rewrite& rw) {
  int fired = 0;
  for (NodeId v : g.ids()) {
    if (g[v].op != OpKind::add) continue;
    auto in = g.inputs(v);
    NodeId m = in[0], b = in[1];
    const Node& mm = g[m];
    if (mm.op != OpKind::matmul || mm.attrs.transpose_a || mm.attrs.transpose_b) continue;
    if (!absorbable(g, obs, m)) continue;
    auto xw = g.inputs(m);
    NodeId x = xw[0], w = xw[1];
    if (g[b].shape != Shape{g[w].shape[1]}) continue;
    DType t = g[v].dtype;
    if (g[x].dtype != t || g[w].dtype != t || g[b].dtype != t) continue;
    rw.replace(v, OpKind::affine, {x, w, b});
    rw.drop(m);
    ++fired;
  }
  return fired;
}

// "affine_relu": relu(a) with a = affine(x, W, b) -> affine_relu(x, W, b),
// named like the relu. Preconditions: the affine is absorbable (only this
// relu reads it; not the loss, a gradient, an update or a kept node).
//
// It always pays: the backward pass of relu reads relu's output (relu_grad
// masks by y > 0, not by the pre-activation), and affine_relu's output is
// exactly that value, so the pre-activation buffer is never needed by
// anyone once fused — one buffer and one sweep over it fewer, forward and
// backward alike.
int fuse_affine_relu(const Graph& g, const Observers& obs, Rewrite& rw) {
  int fired = 0;
  for (NodeId v : g.ids()) {
    if (g[v].op != OpKind::relu) continue;
    NodeId a = g.inputs(v)[0];
    if (g[a].op != OpKind::affine || !absorbable(g, obs, a)) continue;
    if (g[a].dtype != g[v].dtype) continue;
    rw.replace(v, OpKind::affine_relu, g.inputs(a));
    rw.drop(a);
    ++fired;
  }
  return fired;
}

// "softmax_cross_entropy": cross_entropy(p, t) with p = softmax(z) ->
// softmax_cross_entropy(z, t), named like the cross_entropy. Preconditions:
//   - the softmax works on the last axis (the classes; cross_entropy's rows
//     are [N, C]);
//   - the softmax is absorbable (only this cross_entropy reads it; not the
//     loss, a gradient, an update or a kept node);
//   - z has the cross_entropy's dtype.
// The targets are passed through unchanged: labels or one-hot rows, as both
// ops accept, and neither op has a gradient with respect to them.
int fuse_softmax_cross_entropy(const Graph& g, const Observers& obs, Rewrite& rw) {
  int fired = 0;
  for (NodeId v : g.ids()) {
    if (g[v].op != OpKind::cross_entropy) continue;
    auto in = g.inputs(v);
    NodeId p = in[0], t = in[1];
    const Node& sm = g[p];
    if (sm.op != OpKind::softmax || pattern::softmax_axis(sm) != static_cast<int>(sm.shape.rank()) - 1) continue;
    if (!absorbable(g, obs, p)) continue;
    NodeId z = g.inputs(p)[0];
    if (g[z].dtype != g[v].dtype) continue;
    rw.replace(v, OpKind::softmax_cross_entropy, {z, t});
    rw.drop(p);
    ++fired;
  }
  return fired;
}

// The product t ⊙ log_softmax(z) at the heart of both NLL forms.
struct NllProduct {
  NodeId z, t, log_softmax;
};

// m = mul(t, ls) or mul(ls, t) with ls = log_softmax(z) over the last axis of
// a [N, C] z, t a one-hot (or probability) target matrix of ls's shape and
// dtype that is fed (`input`) or fixed (`constant`), and both m and ls
// absorbable. The target restriction is what makes the fusion exact:
// softmax_cross_entropy has no gradient with respect to its targets, and its
// gradient (softmax(z) − t)/N assumes rows of t sum to 1, which is what a
// one-hot target is; a target computed from params would need a gradient
// the fused op does not give.
std::optional<NllProduct> match_nll_product(const Graph& g, const Observers& obs, NodeId m) {
  if (g[m].op != OpKind::mul || !absorbable(g, obs, m)) return std::nullopt;
  auto in = g.inputs(m);
  if (in[0] == in[1]) return std::nullopt;
  for (int k = 0; k < 2; ++k) {
    NodeId ls = in[k], t = in[1 - k];
    const Node& l = g[ls];
    if (l.op != OpKind::log_softmax || l.shape.rank() != 2 || pattern::softmax_axis(l) != 1) continue;
    if (!absorbable(g, obs, ls)) continue;
    const Node& tn = g[t];
    if (tn.op != OpKind::input && tn.op != OpKind::constant) continue;
    if (tn.shape != l.shape || tn.dtype != l.dtype) continue;
    return NllProduct{g.inputs(ls)[0], t, ls};
  }
  return std::nullopt;
}

// "log_softmax_nll": the negative log-likelihood a user writes with our ops
// on one-hot targets t [N, C], as one of
//   (a) neg(mean(sum(mul(t, log_softmax(z)), axis=1)))   mean over rows last
//   (b) scale(sum(mul(t, log_softmax(z))), -1/N)          sum of everything
// -> softmax_cross_entropy(z, t), named like the root (the neg or the scale).
// Preconditions: the product as in match_nll_product; in (a) the sum
// reduces axis 1 (or -1) and the mean reduces what is left to a scalar; in
// (b) the sum reduces every axis and the factor is -1/N to 1e-12; every
// node between the root and log_softmax is absorbable; dtypes agree.
// The label form (picking log_softmax(z)[i, y_i]) cannot be written with
// our ops (there is no gather), so only one-hot targets appear here.
int fuse_log_softmax_nll(const Graph& g, const Observers& obs, Rewrite& rw) {
  int fired = 0;
  for (NodeId v : g.ids()) {
    const Node& root = g[v];
    std::vector<NodeId> absorbed;
    std::optional<NllProduct> product;
    if (root.op == OpKind::neg) {
      NodeId r = g.inputs(v)[0];  // mean over rows
      if (g[r].op != OpKind::mean || !g[r].shape.is_scalar() || !absorbable(g, obs, r)) continue;
      NodeId s = g.inputs(r)[0];  // sum over classes
      if (g[s].op != OpKind::sum || g[s].shape.rank() != 1 || !absorbable(g, obs, s)) continue;
      NodeId m = g.inputs(s)[0];
      if (pattern::reduced_axis(g[s], g[m]) != 1) continue;
      product = match_nll_product(g, obs, m);
      absorbed = {r, s, m};
    } else if (root.op == OpKind::scale) {
      NodeId s = g.inputs(v)[0];  // sum of everything
      if (g[s].op != OpKind::sum || g[s].attrs.axis || !absorbable(g, obs, s)) continue;
      NodeId m = g.inputs(s)[0];
      if (g[m].shape.rank() != 2) continue;
      double rows = static_cast<double>(g[m].shape[0]);
      if (std::abs(root.attrs.factor * rows + 1.0) > 1e-12) continue;
      product = match_nll_product(g, obs, m);
      absorbed = {s, m};
    } else {
      continue;
    }
    if (!product || g[product->z].dtype != root.dtype) continue;
    rw.replace(v, OpKind::softmax_cross_entropy, {product->z, product->t});
    for (NodeId a : absorbed) rw.drop(a);
    rw.drop(product->log_softmax);
    ++fired;
  }
  return fired;
}

// affine_relu needs the affines made by the rule before it.
constexpr NamedRule kRules[] = {
    {"affine", fuse_affine},
    {"affine_relu", fuse_affine_relu},
    {"softmax_cross_entropy", fuse_softmax_cross_entropy},
    {"log_softmax_nll", fuse_log_softmax_nll},
};

}  // namespace

Graph fuse_forward(const Graph& g, PassStats& stats, const PassOptions& options) {
  return apply_rules(g, kRules, "fuse_forward", stats, options);
}

}  // namespace kiln
