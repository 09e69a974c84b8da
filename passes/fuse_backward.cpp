#include "passes/fuse_backward.hpp"

#include "passes/pattern.hpp"

namespace kiln {
namespace {

using pattern::absorbable;

// The operands of add_n `v` with every absorbable add_n among them (and
// among theirs) replaced by its own operands, in order; `spliced` collects
// the add_n nodes that disappear.
void flatten_into(const Graph& g, const Observers& obs, NodeId v, std::vector<NodeId>& flat,
                  std::vector<NodeId>& spliced) {
  for (NodeId u : g.inputs(v)) {
    if (g[u].op == OpKind::add_n && absorbable(g, obs, u) && g[u].dtype == g[v].dtype) {
      spliced.push_back(u);
      flatten_into(g, obs, u, flat, spliced);
    } else {
      flat.push_back(u);
    }
  }
}

// "add_n_flatten": add_n(..., add_n(b, c), ...) -> add_n(..., b, c, ...),
// named like the outer add_n. Preconditions: the inner add_n is absorbable
// (its only consumer is the outer one, which reads it once; it is not the
// loss, a gradient, an update or a kept node). Sums of sums arise when a
// gradient that is itself a sum passes through an add to a value with
// other consumers (residual connections). The order of the terms is kept;
// only the association of the floating-point sum changes.
int flatten_add_n(const Graph& g, const Observers& obs, Rewrite& rw) {
  int fired = 0;
  auto ids = g.ids();
  // Outermost first, so one sweep flattens a whole tree of sums.
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    NodeId v = *it;
    if (g[v].op != OpKind::add_n || rw.decided(v)) continue;
    std::vector<NodeId> flat, spliced;
    flatten_into(g, obs, v, flat, spliced);
    if (spliced.empty()) continue;
    rw.replace(v, OpKind::add_n, flat);
    for (NodeId u : spliced) rw.drop(u);
    fired += static_cast<int>(spliced.size());
  }
  return fired;
}

// The value `e` = expand(s) stands for when broadcast as it is: s itself,
// when s is a scalar (expand over every axis) or e was expanded along axis 0
// (s is then e's trailing dimensions, which add/sub/mul broadcast over rows).
// Expanding along another axis puts s's dimensions elsewhere, so it does not
// qualify even when the shapes happen to match.
std::optional<NodeId> broadcast_source(const Graph& g, NodeId e) {
  const Node& n = g[e];
  if (n.op != OpKind::expand) return std::nullopt;
  NodeId s = g.inputs(e)[0];
  if (!n.attrs.axis) return g[s].shape.is_scalar() ? std::optional<NodeId>(s) : std::nullopt;
  int axis = *n.attrs.axis < 0 ? *n.attrs.axis + static_cast<int>(n.shape.rank()) : *n.attrs.axis;
  if (axis != 0) return std::nullopt;
  return s;
}

// "expand_broadcast": op(x, expand(s)) -> op(x, s) for op in add, sub, mul,
// div, and op(expand(s), x) -> op(x, s) for the commutative add and mul,
// named like the op. Preconditions: the expand is absorbable (only this op
// reads it; not the loss, a gradient, an update or a kept node); s
// broadcasts as described in broadcast_source (div: only a scalar, which is
// all it broadcasts); x has the op's full shape, so the result is unchanged
// in shape and in every element.
int fold_expand_into_broadcast(const Graph& g, const Observers& obs, Rewrite& rw) {
  int fired = 0;
  for (NodeId v : g.ids()) {
    OpKind op = g[v].op;
    if (op != OpKind::add && op != OpKind::sub && op != OpKind::mul && op != OpKind::div) continue;
    auto in = g.inputs(v);
    bool commutative = op == OpKind::add || op == OpKind::mul;
    for (int k : {1, 0}) {
      if (k == 0 && !commutative) continue;
      NodeId e = in[k], x = in[1 - k];
      if (e == x || g[x].shape != g[v].shape || !absorbable(g, obs, e)) continue;
      auto s = broadcast_source(g, e);
      if (!s || g[*s].dtype != g[v].dtype) continue;
      bool fits = op == OpKind::div ? g[*s].shape.is_scalar() : shape_rules::broadcastable(g[x].shape, g[*s].shape);
      if (!fits) continue;
      rw.replace(v, op, {x, *s});
      rw.drop(e);
      ++fired;
      break;
    }
  }
  return fired;
}

// True when `d` is the constant 1 (autodiff's seed, the incoming gradient
// of the loss itself).
bool is_constant_one(const Graph& g, NodeId d) {
  const Node& n = g[d];
  return n.op == OpKind::constant && n.shape.is_scalar() && n.attrs.value == std::vector<double>{1.0};
}

// The softmax_cross_entropy(z, t) that softmax_cross_entropy_grad `v`
// differentiates: same logits, same targets.
std::optional<NodeId> loss_of_gradient(const Graph& g, NodeId v) {
  auto in = g.inputs(v);
  for (NodeId r : g.consumers(in[0])) {
    if (g[r].op != OpKind::softmax_cross_entropy || r >= v) continue;
    auto loss_in = g.inputs(r);
    if (loss_in[0] == in[0] && loss_in[1] == in[1]) return r;
  }
  return std::nullopt;
}

// "softmax_cross_entropy_with_grad": softmax_cross_entropy(z, t) and
// softmax_cross_entropy_grad(z, t, d) with d the constant 1 ->
// softmax_cross_entropy_with_grad(z, t), named like the loss, and
// get_output(it, index 1), named like the gradient: one pass over the
// logits instead of two that each exponentiate them. Preconditions: d is
// the constant 1 (autodiff's seed reaches the cross-entropy unchanged when
// it is the loss or a term of a sum that is: xent + λ·l2); the loss node is
// not already fused with another gradient. Both names, values and roles
// survive (the fused node's output 0 is the loss's value, its output 1 the
// gradient's), so observers of either are unaffected. The seed disappears
// when the gradient was its only reader and no one else reads it.
int fuse_softmax_cross_entropy_with_grad(const Graph& g, const Observers& obs, Rewrite& rw) {
  int fired = 0;
  for (NodeId v : g.ids()) {
    if (g[v].op != OpKind::softmax_cross_entropy_grad || rw.decided(v)) continue;
    auto in = g.inputs(v);
    if (!is_constant_one(g, in[2])) continue;
    std::optional<NodeId> loss = loss_of_gradient(g, v);
    if (!loss || rw.decided(*loss)) continue;
    rw.replace(*loss, OpKind::softmax_cross_entropy_with_grad, {in[0], in[1]});
    Attrs second;
    second.index = 1;
    rw.replace(v, OpKind::get_output, {*loss}, second);
    if (absorbable(g, obs, in[2]) && !rw.decided(in[2])) rw.drop(in[2]);
    ++fired;
  }
  return fired;
}

constexpr NamedRule kRules[] = {
    {"add_n_flatten", flatten_add_n},
    {"expand_broadcast", fold_expand_into_broadcast},
    {"softmax_cross_entropy_with_grad", fuse_softmax_cross_entropy_with_grad},
};

}  // namespace

Graph fuse_backward(const Graph& g, PassStats& stats, const PassOptions& options) {
  return apply_rules(g, kRules, "fuse_backward", stats, options);
}

}  // namespace kiln
