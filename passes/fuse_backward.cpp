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

constexpr NamedRule kRules[] = {
    {"add_n_flatten", flatten_add_n},
    {"expand_broadcast", fold_expand_into_broadcast},
};

}  // namespace

Graph fuse_backward(const Graph& g, PassStats& stats, const PassOptions& options) {
  return apply_rules(g, kRules, "fuse_backward", stats, options);
}

}  // namespace kiln
