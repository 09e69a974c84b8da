#include "passes/autodiff.hpp"

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>

#include "graph/error.hpp"
#include "passes/gradient_rules.hpp"

namespace kiln {
namespace {

// Marks every vertex reachable from `sources` in `bg` (a BoostGraph or its
// reverse_graph) using Boost's breadth-first search.
template <class G>
std::vector<bool> reachable(const G& bg, const std::vector<NodeId>& sources) {
  std::vector<bool> seen(boost::num_vertices(bg), false);
  if (sources.empty()) return seen;
  struct Marker : boost::default_bfs_visitor {
    std::vector<bool>* seen;
    void discover_vertex(NodeId v, const G&) const { (*seen)[v] = true; }
  } marker;
  marker.seen = &seen;
  std::vector<boost::default_color_type> colors(boost::num_vertices(bg));
  auto color_map = boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, bg));
  boost::queue<NodeId> queue;
  for (NodeId s : sources) {
    if (seen[s]) continue;
    boost::breadth_first_search(bg, s, queue, marker, color_map);
  }
  return seen;
}

class Differentiator final : public GradContext {
 public:
  Differentiator(const Graph& forward, const AutodiffOptions& options) : g_(forward) {
    if (!g_.loss()) throw Error("autodiff: the graph has no loss (set the top-level field 'loss')");
    loss_ = *g_.loss();
    targets_ = resolve_targets(options);
    std::size_t n = g_.size();
    std::vector<bool> reaches_loss = reachable(boost::make_reverse_graph(g_.boost()), {loss_});
    std::vector<bool> from_target = reachable(g_.boost(), targets_);
    for (NodeId t : targets_)
      if (!reaches_loss[t])
        throw Error("autodiff: " + describe(g_, t) + " does not reach the loss '" + g_[loss_].name +
                    "', so it has no gradient");
    relevant_.resize(n);
    for (NodeId v = 0; v < n; ++v) relevant_[v] = reaches_loss[v] && from_target[v];
    uses_.assign(n, 0);
    for (NodeId v = 0; v < n; ++v)
      if (relevant_[v])
        for (NodeId i : g_.inputs(v))
          if (relevant_[i]) ++uses_[i];
    contributions_.resize(n);
  }

  Graph run() {
    const std::size_t forward_size = g_.size();
    Attrs one;
    one.value = {1.0};
    NodeId seed = g_.add_explicit(OpKind::constant, {}, Shape{}, g_[loss_].dtype, one,
                                  g_.unique_name("grad/" + g_[loss_].name), Role::backward);
    contributions_[loss_].push_back(seed);

    std::vector<NodeId> order = g_.topological_order();
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      NodeId v = *it;
      if (v >= forward_size || !relevant_[v]) continue;
      if (contributions_[v].empty())
        throw Error("autodiff: internal error: " + describe(g_, v) + " received no gradient");
      NodeId dv = total_gradient(v);
      if (std::find(targets_.begin(), targets_.end(), v) != targets_.end()) g_.set_gradient(v, dv);
      if (g_[v].info().is_leaf()) continue;
      GradRule rule = gradient_rule(g_[v].op);
      if (!rule)
        throw Error("autodiff: " + describe(g_, v) + " lies on a path from a differentiated node to the loss '" +
                    g_[loss_].name + "', but op '" + std::string(op_name(g_[v].op)) + "' has no gradient rule");
      node_ = v;
      dy_ = dv;
      inputs_ = g_.inputs(v);
      rule(*this);
    }
    return std::move(g_);
  }

  // GradContext
  NodeId node() const override { return node_; }
  NodeId dy() const override { return dy_; }
  NodeId input(int k) const override { return inputs_.at(static_cast<std::size_t>(k)); }
  const Graph& graph() const override { return g_; }
  bool needs(int k) const override { return relevant_[input(k)]; }

  NodeId make(OpKind op, const std::vector<NodeId>& inputs, Attrs attrs) override {
    return g_.add(op, inputs, std::move(attrs), temp_name(op), Role::backward);
  }

  NodeId make_expand(NodeId x, const Shape& shape, std::optional<int> axis, int for_operand) override {
    Attrs attrs;
    attrs.axis = axis;
    std::string name = for_operand < 0 ? temp_name(OpKind::expand) : contribution_name(for_operand);
    NodeId e = g_.add_explicit(OpKind::expand, {x}, shape, g_[x].dtype, std::move(attrs), name, Role::backward);
    if (for_operand >= 0) contribute(for_operand, e);
    return e;
  }

  NodeId make_for(int k, OpKind op, const std::vector<NodeId>& inputs, Attrs attrs) override {
    NodeId id = g_.add(op, inputs, std::move(attrs), contribution_name(k), Role::backward);
    contribute(k, id);
    return id;
  }

  void contribute(int k, NodeId grad) override {
    NodeId target = input(k);
    if (!relevant_[target]) return;
    if (g_[grad].shape != g_[target].shape)
      throw Error("autodiff: internal error: the gradient rule of " + describe(g_, node_) + " gave operand " +
                  std::to_string(k) + " a gradient of shape " + g_[grad].shape.str() + ", expected " +
                  g_[target].shape.str());
    contributions_[target].push_back(grad);
  }

 private:
  std::vector<NodeId> resolve_targets(const AutodiffOptions& options) const {
    std::vector<NodeId> out;
    if (options.wrt.empty()) {
      for (NodeId v : g_.ids())
        if (g_[v].op == OpKind::param) out.push_back(v);
      if (out.empty()) throw Error("autodiff: the graph has no param to differentiate");
      return out;
    }
    for (const std::string& name : options.wrt) {
      auto id = g_.find(name);
      if (!id) throw Error("autodiff: cannot differentiate with respect to '" + name + "': no node has that name");
      if (!is_float(g_[*id].dtype))
        throw Error("autodiff: cannot differentiate with respect to " + describe(g_, *id) + ": its dtype is " +
                    std::string(dtype_name(g_[*id].dtype)));
      out.push_back(*id);
    }
    return out;
  }

  // The sum of every contribution to v: one visible add_n when there are several.
  NodeId total_gradient(NodeId v) {
    const auto& parts = contributions_[v];
    if (parts.size() == 1) return parts[0];
    return g_.add(OpKind::add_n, parts, {}, g_.unique_name("grad/" + g_[v].name), Role::backward);
  }

  // "grad/<operand>" when this is its only contribution, else
  // "grad/<operand>/from/<node>", summed later under "grad/<operand>".
  std::string contribution_name(int k) const {
    NodeId target = input(k);
    std::string base = "grad/" + g_[target].name;
    if (uses_[target] > 1) base += "/from/" + g_[node_].name;
    return g_.unique_name(base);
  }

  std::string temp_name(OpKind op) const {
    return g_.unique_name("grad/" + g_[node_].name + "/" + std::string(op_name(op)));
  }

  Graph g_;
  NodeId loss_ = 0;
  std::vector<NodeId> targets_;
  std::vector<bool> relevant_;
  std::vector<int> uses_;
  std::vector<std::vector<NodeId>> contributions_;
  NodeId node_ = 0, dy_ = 0;
  std::vector<NodeId> inputs_;
};

}  // namespace

Graph autodiff(const Graph& forward, const AutodiffOptions& options) {
  return Differentiator(forward, options).run();
}

}  // namespace kiln
