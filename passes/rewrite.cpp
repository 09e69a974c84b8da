#include "passes/rewrite.hpp"

#include <optional>

#include "graph/error.hpp"

namespace kiln {

Observers observe(const Graph& g, const std::vector<std::string>& keep) {
  Observers o{std::vector<bool>(g.size(), false), std::vector<bool>(g.size(), false)};
  for (NodeId v : g.ids())
    if (g[v].role == Role::update) o.pinned[v] = true;
  for (const std::string& name : keep)
    if (auto id = g.find(name)) o.pinned[*id] = true;
  for (auto [of, grad] : g.gradients()) {
    o.pinned[of] = true;
    o.role[grad] = true;
  }
  if (auto loss = g.loss()) o.role[*loss] = true;
  return o;
}

Rewrite::Rewrite(const Graph& source, std::string pass)
    : src_(source), pass_(std::move(pass)), actions_(source.size()) {}

void Rewrite::internal_error(const std::string& what) const {
  throw Error(pass_ + ": internal error: " + what);
}

void Rewrite::decide(NodeId node, Action action) {
  if (node >= src_.size()) internal_error("a decision names a node that does not exist");
  if (actions_[node].kind != Action::keep)
    internal_error("two decisions for " + describe(src_, node));
  actions_[node] = std::move(action);
}

void Rewrite::drop(NodeId node) {
  Action a;
  a.kind = Action::drop;
  decide(node, std::move(a));
}

void Rewrite::forward(NodeId node, NodeId survivor) {
  if (survivor >= node)
    internal_error(describe(src_, node) + " is forwarded to " + describe(src_, survivor) + ", which is not earlier");
  const Node &n = src_[node], &s = src_[survivor];
  if (n.shape != s.shape || n.dtype != s.dtype)
    internal_error(describe(src_, node) + " (" + n.shape.str() + " " + std::string(dtype_name(n.dtype)) +
                   ") is forwarded to " + describe(src_, survivor) + " (" + s.shape.str() + " " +
                   std::string(dtype_name(s.dtype)) + ")");
  Action a;
  a.kind = Action::forward;
  a.survivor = survivor;
  decide(node, std::move(a));
}

void Rewrite::replace(NodeId node, OpKind op, std::vector<NodeId> operands, Attrs attrs) {
  for (NodeId o : operands)
    if (o >= node)
      internal_error("the replacement of " + describe(src_, node) + " reads " + describe(src_, o) +
                     ", which is not earlier");
  Action a;
  a.kind = Action::replace;
  a.op = op;
  a.operands = std::move(operands);
  a.attrs = std::move(attrs);
  decide(node, std::move(a));
}

void Rewrite::replace_with_constant(NodeId node, std::vector<double> values) {
  Attrs attrs;
  attrs.value = std::move(values);
  replace(node, OpKind::constant, {}, std::move(attrs));
}

std::size_t Rewrite::removed() const {
  std::size_t n = 0;
  for (const Action& a : actions_) n += (a.kind == Action::drop || a.kind == Action::forward);
  return n;
}

Graph Rewrite::run() const {
  Graph out;
  std::vector<std::optional<NodeId>> to_new(src_.size());
  auto remap = [&](NodeId old, NodeId reader) {
    if (!to_new[old])
      internal_error(describe(src_, reader) + " reads " + describe(src_, old) + ", which was dropped");
    return *to_new[old];
  };

  for (NodeId v : src_.ids()) {
    const Node& n = src_[v];
    const Action& a = actions_[v];
    switch (a.kind) {
      case Action::drop:
        break;
      case Action::forward:
        to_new[v] = remap(a.survivor, v);
        break;
      case Action::keep:
      case Action::replace: {
        bool keep = a.kind == Action::keep;
        std::vector<NodeId> operands = keep ? src_.inputs(v) : a.operands;
        for (NodeId& o : operands) o = remap(o, v);
        NodeId id = out.add_explicit(keep ? n.op : a.op, operands, n.shape, n.dtype, keep ? n.attrs : a.attrs, n.name,
                                     n.role);
        if (out[id].shape != n.shape || out[id].dtype != n.dtype)
          internal_error(describe(out, id) + " now yields " + out[id].shape.str() + " " +
                         std::string(dtype_name(out[id].dtype)) + " instead of " + n.shape.str() + " " +
                         std::string(dtype_name(n.dtype)));
        to_new[v] = id;
        break;
      }
    }
  }

  auto carried = [&](NodeId old, const char* what) {
    if (!to_new[old]) internal_error(describe(src_, old) + " is " + what + " but was dropped");
    return *to_new[old];
  };
  if (auto loss = src_.loss()) out.set_loss(carried(*loss, "the loss"));
  for (auto [of, grad] : src_.gradients())
    out.set_gradient(carried(of, "differentiated"), carried(grad, "a gradient"));
  return out;
}

Graph apply_rules(const Graph& g, std::span<const NamedRule> rules, const char* pass, PassStats& stats,
                  const PassOptions& options) {
  stats.nodes_before = g.size();
  Graph current = g;
  for (const NamedRule& rule : rules) {
    Rewrite rw(current, pass);
    int fired = rule.apply(current, observe(current, options.keep), rw);
    if (fired == 0) continue;
    stats.count(rule.name, fired);
    current = rw.run();
  }
  stats.nodes_after = current.size();
  return current;
}

}  // namespace kiln
