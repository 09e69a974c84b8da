#include "passes/fuse_update.hpp"

#include <algorithm>

namespace kiln {
namespace {

// What an sgd_update `u` of param P could absorb: its gradient, either a
// matmul or add_n(matmul, scale(P, λ)) (the gradient of a loss term
// 0.5·λ·‖P‖², as the seed models' weight decay is written), whose λ joins the
// update's own weight decay.
struct Foldable {
  NodeId gradient;                // what the update reads
  NodeId product;                 // the matmul
  std::optional<NodeId> penalty;  // the scale(P, λ), if any
  double extra_decay = 0;         // λ
};

// Checks everything but who observes the nodes from outside the graph (the
// caller decides that).
std::optional<Foldable> foldable(const Graph& g, NodeId u) {
  if (g[u].op != OpKind::sgd_update) return std::nullopt;
  const std::vector<NodeId> in = g.inputs(u);
  const NodeId p = in[0], gradient = in[1];
  if (g[p].op != OpKind::param || g.consumers(gradient).size() != 1) return std::nullopt;
  Foldable f{gradient, gradient, std::nullopt, 0};
  if (g[gradient].op == OpKind::add_n && g.inputs(gradient).size() == 2) {
    const std::vector<NodeId> terms = g.inputs(gradient);
    bool matched = false;
    for (int k : {0, 1}) {
      const NodeId product = terms[k], penalty = terms[1 - k];
      if (g[product].op != OpKind::matmul || g[penalty].op != OpKind::scale) continue;
      if (g.inputs(penalty)[0] != p || g.consumers(product).size() != 1 || g.consumers(penalty).size() != 1)
        continue;
      f = Foldable{gradient, product, penalty, g[penalty].attrs.factor};
      matched = true;
      break;
    }
    if (!matched) return std::nullopt;
  } else if (g[gradient].op != OpKind::matmul) {
    return std::nullopt;
  }
  // A param operand stays out: its own update would then have to wait for
  // this one and, when that param's gradient reads P in turn (M = U·V: each
  // weight's gradient reads the other weight), the two updates could not be
  // ordered at all. The seed models' products read inputs and activations.
  for (NodeId operand : g.inputs(f.product))
    if (g[operand].op == OpKind::param) return std::nullopt;
  return f;
}

// The sum's terms are read by nothing else, but could still be observed
// (kept by name, or someone's gradient).
bool terms_unobserved(const Observers& obs, const Foldable& f) {
  if (!f.penalty) return true;
  return !obs.any(f.product) && !obs.any(*f.penalty);
}

// "sgd_matmul_update": see fuse_update.hpp.
int fold_product_into_update(const Graph& g, const Observers& obs, Rewrite& rw) {
  int fired = 0;
  for (NodeId u : g.ids()) {
    std::optional<Foldable> f = foldable(g, u);
    if (!f || obs.any(f->gradient) || !terms_unobserved(obs, *f)) continue;
    const Node& m = g[f->product];
    Attrs attrs;
    attrs.lr = g[u].attrs.lr;
    attrs.weight_decay = g[u].attrs.weight_decay + f->extra_decay;
    attrs.transpose_a = m.attrs.transpose_a;
    attrs.transpose_b = m.attrs.transpose_b;
    const std::vector<NodeId> operands = g.inputs(f->product);
    rw.replace(u, OpKind::sgd_matmul_update, {g.inputs(u)[0], operands[0], operands[1]}, attrs);
    rw.drop(f->gradient);
    if (f->penalty) {
      rw.drop(f->product);
      rw.drop(*f->penalty);
    }
    ++fired;
  }
  return fired;
}

constexpr NamedRule kRules[] = {
    {"sgd_matmul_update", fold_product_into_update},
};

// The gradients the rule will fold: P's gradient when it is foldable and
// nothing but the pair itself observes it (not kept, not the loss, not also
// recorded as another node's gradient).
std::vector<bool> gradients_to_fold(const Graph& g, const PassOptions& options) {
  const Observers obs = observe(g, options.keep);
  std::vector<bool> fold(g.size(), false);
  for (NodeId u : g.ids()) {
    std::optional<Foldable> f = foldable(g, u);
    if (!f || obs.pinned[f->gradient] || g.loss() == f->gradient || !terms_unobserved(obs, *f)) continue;
    const NodeId p = g.inputs(u)[0];
    bool of_p = false, of_another = false;
    for (auto [of, grad] : g.gradients())
      if (grad == f->gradient) (of == p ? of_p : of_another) = true;
    if (of_p && !of_another) fold[f->gradient] = true;
  }
  return fold;
}

// `g` without the gradient pairs whose gradient `fold` marks; node ids stay.
Graph without_gradients(const Graph& g, const std::vector<bool>& fold) {
  Graph out;
  for (NodeId v : g.ids()) {
    const Node& n = g[v];
    out.add_explicit(n.op, g.inputs(v), n.shape, n.dtype, n.attrs, n.name, n.role);
  }
  if (auto loss = g.loss()) out.set_loss(*loss);
  for (auto [of, grad] : g.gradients())
    if (!fold[grad]) out.set_gradient(of, grad);
  return out;
}

}  // namespace

Graph fuse_update(const Graph& g, PassStats& stats, const PassOptions& options) {
  const std::vector<bool> fold = gradients_to_fold(g, options);
  if (std::none_of(fold.begin(), fold.end(), [](bool f) { return f; }))
    return apply_rules(g, kRules, "fuse_update", stats, options);
  return apply_rules(without_gradients(g, fold), kRules, "fuse_update", stats, options);
}

}  // namespace kiln
