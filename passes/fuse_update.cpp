#include "passes/fuse_update.hpp"

#include <algorithm>

namespace kiln {
namespace {

// The matmul an sgd_update `u` could absorb, checking everything but who
// observes the matmul from outside the graph (the caller decides that).
std::optional<NodeId> foldable_product(const Graph& g, NodeId u) {
  if (g[u].op != OpKind::sgd_update) return std::nullopt;
  const std::vector<NodeId> in = g.inputs(u);
  const NodeId p = in[0], product = in[1];
  if (g[p].op != OpKind::param || g[product].op != OpKind::matmul) return std::nullopt;
  if (g.consumers(product).size() != 1) return std::nullopt;
  const std::vector<NodeId> operands = g.inputs(product);
  if (std::find(operands.begin(), operands.end(), p) != operands.end()) return std::nullopt;
  return product;
}

// "sgd_matmul_update": see fuse_update.hpp.
int fold_product_into_update(const Graph& g, const Observers& obs, Rewrite& rw) {
  int fired = 0;
  for (NodeId u : g.ids()) {
    std::optional<NodeId> product = foldable_product(g, u);
    if (!product || obs.any(*product)) continue;
    const Node& m = g[*product];
    Attrs attrs;
    attrs.lr = g[u].attrs.lr;
    attrs.weight_decay = g[u].attrs.weight_decay;
    attrs.transpose_a = m.attrs.transpose_a;
    attrs.transpose_b = m.attrs.transpose_b;
    const std::vector<NodeId> operands = g.inputs(*product);
    rw.replace(u, OpKind::sgd_matmul_update, {g.inputs(u)[0], operands[0], operands[1]}, attrs);
    rw.drop(*product);
    ++fired;
  }
  return fired;
}

constexpr NamedRule kRules[] = {
    {"sgd_matmul_update", fold_product_into_update},
};

// The gradients the rule will fold: P's gradient when it is a foldable
// product that nothing but the pair itself observes (not kept, not the loss,
// not also recorded as another node's gradient).
std::vector<bool> gradients_to_fold(const Graph& g, const PassOptions& options) {
  const Observers obs = observe(g, options.keep);
  std::vector<bool> fold(g.size(), false);
  for (NodeId u : g.ids()) {
    std::optional<NodeId> product = foldable_product(g, u);
    if (!product || obs.pinned[*product] || g.loss() == product) continue;
    const NodeId p = g.inputs(u)[0];
    bool of_p = false, of_another = false;
    for (auto [of, grad] : g.gradients())
      if (grad == *product) (of == p ? of_p : of_another) = true;
    if (of_p && !of_another) fold[*product] = true;
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
