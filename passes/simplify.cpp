#include "passes/simplify.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "passes/constant_eval.hpp"

namespace kiln {
namespace {

// A step records its decisions in a Rewrite and counts them in `stats`;
// it returns the rewritten graph, or nullopt when it decided nothing.
using Step = std::optional<Graph> (*)(const Graph& g, const Observers& obs, PassStats& stats);

double as_dtype(DType t, double v) { return t == DType::f32 ? static_cast<double>(static_cast<float>(v)) : v; }

// True when `v` is a constant whose every element is `x` (as its dtype
// stores it).
bool constant_all(const Graph& g, NodeId v, double x) {
  const Node& n = g[v];
  if (n.op != OpKind::constant) return false;
  return std::all_of(n.attrs.value.begin(), n.attrs.value.end(),
                     [&](double e) { return as_dtype(n.dtype, e) == as_dtype(n.dtype, x); });
}

std::optional<double> scalar_constant(const Graph& g, NodeId v) {
  const Node& n = g[v];
  if (n.op != OpKind::constant || !n.shape.is_scalar()) return std::nullopt;
  return as_dtype(n.dtype, n.attrs.value.at(0));
}

std::optional<Graph> algebra(const Graph& g, const Observers& obs, PassStats& stats) {
  Rewrite rw(g, "simplify");
  int fired = 0;
  for (NodeId v : g.ids()) {
    const Node& n = g[v];
    if (n.role == Role::update || n.info().is_leaf()) continue;
    auto in = g.inputs(v);
    // `v` is `x` when x has v's shape; the node disappears in favour of x.
    auto pass_through = [&](NodeId x, const char* rule) {
      if (obs.pinned[v] || g[x].shape != n.shape || g[x].dtype != n.dtype) return false;
      rw.forward(v, x);
      stats.count(rule);
      ++fired;
      return true;
    };
    auto becomes = [&](OpKind op, std::vector<NodeId> operands, Attrs attrs, const char* rule) {
      rw.replace(v, op, std::move(operands), std::move(attrs));
      stats.count(rule);
      ++fired;
    };
    auto scaled = [](double factor) {
      Attrs a;
      a.factor = factor;
      return a;
    };
    switch (n.op) {
      case OpKind::scale:
        if (n.attrs.factor == 1.0) {
          pass_through(in[0], "scale_by_one");
        } else if (g[in[0]].op == OpKind::scale) {
          // A product that overflows is left as two scales: a scale's factor
          // must be finite (graph/ops.def), and x·a·b may still be finite.
          const double product = g[in[0]].attrs.factor * n.attrs.factor;
          if (std::isfinite(product)) becomes(OpKind::scale, g.inputs(in[0]), scaled(product), "scale_of_scale");
        }
        break;
      case OpKind::neg:
        if (g[in[0]].op == OpKind::neg) pass_through(g.inputs(in[0])[0], "neg_neg");
        break;
      case OpKind::add_n:
        if (in.size() == 1) pass_through(in[0], "add_n_of_one");
        break;
      case OpKind::mul: {
        if (constant_all(g, in[1], 1.0) && pass_through(in[0], "mul_by_one")) break;
        if (constant_all(g, in[0], 1.0) && pass_through(in[1], "mul_by_one")) break;
        for (int k : {1, 0}) {
          auto c = scalar_constant(g, in[k]);
          NodeId x = in[1 - k];
          if (c && std::isfinite(*c) && g[x].shape == n.shape && g[x].op != OpKind::constant) {
            becomes(OpKind::scale, {x}, scaled(*c), "mul_by_scalar_constant");
            break;
          }
        }
        break;
      }
      case OpKind::add:
        if (constant_all(g, in[1], 0.0) && pass_through(in[0], "add_zero")) break;
        if (constant_all(g, in[0], 0.0)) pass_through(in[1], "add_zero");
        break;
      case OpKind::sub:
        if (constant_all(g, in[1], 0.0)) pass_through(in[0], "sub_zero");
        break;
      case OpKind::div:
        if (constant_all(g, in[1], 1.0)) pass_through(in[0], "div_by_one");
        break;
      default:
        break;
    }
  }
  if (fired == 0) return std::nullopt;
  return rw.run();
}

std::optional<Graph> fold(const Graph& g, const Observers&, PassStats& stats) {
  Rewrite rw(g, "simplify");
  // The constants this sweep made, so a chain of constant ops folds at once.
  std::vector<std::optional<Node>> made(g.size());
  auto as_constant = [&](NodeId v) -> const Node* {
    if (made[v]) return &*made[v];
    return g[v].op == OpKind::constant ? &g[v] : nullptr;
  };
  int fired = 0;
  for (NodeId v : g.ids()) {
    const Node& n = g[v];
    if (n.role == Role::update || !can_fold(n.op) || n.shape.numel() > kMaxFoldedElements) continue;
    std::vector<const Node*> operands;
    for (NodeId i : g.inputs(v)) {
      const Node* c = as_constant(i);
      if (!c) break;
      operands.push_back(c);
    }
    if (operands.size() != g.inputs(v).size()) continue;
    auto values = evaluate_constant(n, operands);
    if (!values || !std::all_of(values->begin(), values->end(), [](double x) { return std::isfinite(x); })) continue;
    Node constant = n;
    constant.op = OpKind::constant;
    constant.attrs = Attrs{};
    constant.attrs.value = *values;
    made[v] = std::move(constant);
    rw.replace_with_constant(v, std::move(*values));
    ++fired;
  }
  if (fired == 0) return std::nullopt;
  stats.count("fold", fired);
  return rw.run();
}

// Everything that decides whether two nodes compute the same value, given
// the representatives of their operands.
std::string cse_key(const Node& n, std::vector<NodeId> operands, const Graph& g) {
  bool commutative = n.op == OpKind::add || n.op == OpKind::mul;
  if (commutative && g[operands[0]].shape == g[operands[1]].shape) std::sort(operands.begin(), operands.end());
  auto bits = [](double d) { return std::to_string(std::bit_cast<std::uint64_t>(d)); };
  std::string key = std::to_string(static_cast<int>(n.op)) + "|" + std::string(dtype_name(n.dtype)) + "|" + n.shape.str();
  key += "|axis=" + (n.attrs.axis ? std::to_string(*n.attrs.axis) : std::string("none"));
  key += "|t=" + std::to_string(n.attrs.transpose_a) + std::to_string(n.attrs.transpose_b);
  key += "|f=" + bits(n.attrs.factor) + "|c=" + std::to_string(n.attrs.classes) + "|v=";
  for (double v : n.attrs.value) key += bits(as_dtype(n.dtype, v)) + ",";
  key += "|in=";
  for (NodeId o : operands) key += std::to_string(o) + ",";
  return key;
}

std::optional<Graph> cse(const Graph& g, const Observers& obs, PassStats& stats) {
  Rewrite rw(g, "simplify");
  std::vector<NodeId> rep(g.size());
  std::unordered_map<std::string, NodeId> first;
  int fired = 0;
  for (NodeId v : g.ids()) {
    rep[v] = v;
    const Node& n = g[v];
    if (n.op == OpKind::input || n.op == OpKind::labels || n.op == OpKind::param || n.role == Role::update) continue;
    std::vector<NodeId> operands = g.inputs(v);
    for (NodeId& o : operands) o = rep[o];
    auto [it, inserted] = first.emplace(cse_key(n, operands, g), v);
    if (inserted || obs.pinned[v]) continue;
    rep[v] = it->second;
    rw.forward(v, it->second);
    ++fired;
  }
  if (fired == 0) return std::nullopt;
  stats.count("cse", fired);
  return rw.run();
}

std::optional<Graph> dce(const Graph& g, const Observers& obs, PassStats& stats) {
  std::vector<bool> needed(g.size(), false);
  bool has_roots = false;
  for (NodeId v : g.ids()) {
    if (obs.any(v)) needed[v] = has_roots = true;
  }
  for (NodeId v : g.ids()) {
    OpKind op = g[v].op;
    if (op == OpKind::input || op == OpKind::labels || op == OpKind::param) needed[v] = true;
    if (!has_roots && g.consumers(v).empty()) needed[v] = true;
  }
  // Ids are in creation order, which is topological: one backward sweep.
  for (NodeId v = g.size(); v-- > 0;)
    if (needed[v])
      for (NodeId i : g.inputs(v)) needed[i] = true;
  Rewrite rw(g, "simplify");
  int removed = 0;
  for (NodeId v : g.ids())
    if (!needed[v]) {
      rw.drop(v);
      ++removed;
    }
  if (removed == 0) return std::nullopt;
  stats.count("dce", removed);
  return rw.run();
}

// Runs one step on its own, as the public functions below do.
Graph run_alone(Step step, const Graph& g, PassStats& stats, const PassOptions& options) {
  stats.nodes_before = g.size();
  std::optional<Graph> out = step(g, observe(g, options.keep), stats);
  Graph result = out ? std::move(*out) : g;
  stats.nodes_after = result.size();
  return result;
}

}  // namespace

Graph simplify(const Graph& g, PassStats& stats, const PassOptions& options) {
  // Each round either changes the graph or ends the loop; a round that
  // changes it removes nodes or moves work toward constants, so the rounds
  // are few. The cap only guards against a rule pair that undoes itself.
  constexpr int kMaxRounds = 32;
  stats.nodes_before = g.size();
  Graph current = g;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool changed = false;
    for (Step step : {algebra, fold, cse, dce}) {
      if (auto next = step(current, observe(current, options.keep), stats)) {
        current = std::move(*next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  stats.nodes_after = current.size();
  return current;
}

Graph simplify_algebra(const Graph& g, PassStats& stats, const PassOptions& options) {
  return run_alone(algebra, g, stats, options);
}

Graph fold_constants(const Graph& g, PassStats& stats, const PassOptions& options) {
  return run_alone(fold, g, stats, options);
}

Graph eliminate_common_subexpressions(const Graph& g, PassStats& stats, const PassOptions& options) {
  return run_alone(cse, g, stats, options);
}

Graph eliminate_dead_code(const Graph& g, PassStats& stats, const PassOptions& options) {
  return run_alone(dce, g, stats, options);
}

}  // namespace kiln
