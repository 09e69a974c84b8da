#include "passes/liveness.hpp"

#include <algorithm>

#include "graph/error.hpp"
#include "passes/in_place.hpp"
#include "passes/schedule.hpp"

namespace kiln {

std::optional<NodeId> overwritten_persistent(const Graph& g, NodeId id) {
  const Node& n = g[id];
  if (n.info().category == Category::update) {
    NodeId target = g.inputs(id)[0];
    while (g[target].info().category == Category::update) target = g.inputs(target)[0];
    if (g[target].op != OpKind::param) return std::nullopt;
    return target;
  }
  if (n.role != Role::update || n.info().is_leaf() || !g.consumers(id).empty()) return std::nullopt;
  std::vector<NodeId> in = g.inputs(id);
  if (in.empty()) return std::nullopt;
  const Node& target = g[in[0]];
  if (target.op != OpKind::param || target.shape != n.shape || target.dtype != n.dtype) return std::nullopt;
  return in[0];
}

bool is_persistent(const Graph& g, NodeId id) {
  OpKind op = g[id].op;
  if (op == OpKind::param || op == OpKind::constant) return true;
  return overwritten_persistent(g, id).has_value();
}

bool is_fed(const Graph& g, NodeId id) {
  OpKind op = g[id].op;
  return op == OpKind::input || op == OpKind::labels;
}

std::size_t arena_bytes(const Graph& g, NodeId id) {
  if (is_persistent(g, id)) return 0;
  const Node& n = g[id];
  return align_up(static_cast<std::size_t>(n.shape.numel()) * dtype_size(n.dtype));
}

int written_at(const Graph& g, NodeId id, const std::vector<int>& step) {
  if (g[id].op == OpKind::get_output) return step[g.inputs(id)[0]];
  return step[id];
}

std::size_t bytes_written(const Graph& g, NodeId id) {
  if (g[id].op == OpKind::get_output) return 0;
  std::size_t bytes = arena_bytes(g, id);
  for (std::size_t k = 1; k <= g[id].extra_outputs.size(); ++k)
    if (auto p = g.projection(id, static_cast<int>(k))) bytes += arena_bytes(g, *p);
  return bytes;
}

Liveness analyse_liveness(const Graph& g, const std::vector<NodeId>& order, const LivenessOptions& options) {
  verify_schedule(g, order);
  const std::size_t n = g.size();
  Liveness live;
  live.steps = static_cast<int>(order.size());
  live.step.assign(n, Liveness::kNotScheduled);
  live.first.assign(n, -1);
  live.last.assign(n, -1);
  live.output.assign(n, false);
  live.reuses.assign(n, std::nullopt);
  live.buffer_head.resize(n);
  for (NodeId v = 0; v < n; ++v) live.buffer_head[v] = v;
  for (std::size_t i = 0; i < order.size(); ++i) live.step[order[i]] = static_cast<int>(i);
  auto scheduled = [&](NodeId v) { return live.step[v] != Liveness::kNotScheduled; };

  // Outputs: the loss always; a gradient unless an update node consumes it.
  if (auto loss = g.loss(); loss && scheduled(*loss)) live.output[*loss] = true;
  for (const auto& [of, grad] : g.gradients()) {
    if (!scheduled(grad)) continue;
    std::vector<NodeId> readers = g.consumers(grad);
    bool updated = std::any_of(readers.begin(), readers.end(),
                               [&](NodeId r) { return scheduled(r) && g[r].role == Role::update; });
    if (!updated) live.output[grad] = true;
  }
  for (NodeId v : options.outputs) {
    if (v >= n) throw Error("liveness: an extra output refers to a node that does not exist");
    if (!scheduled(v)) throw Error("liveness: the extra output " + describe(g, v) + " is not in the schedule");
    live.output[v] = true;
  }

  const int end = live.steps - 1;
  for (NodeId v : order) {
    if (is_persistent(g, v)) continue;
    int first = is_fed(g, v) ? 0 : written_at(g, v, live.step);
    int last = live.step[v];
    // A get_output reads no data of output 0: its buffer is another value.
    for (NodeId r : g.consumers(v))
      if (scheduled(r) && g[r].op != OpKind::get_output) last = std::max(last, live.step[r]);
    if (live.output[v]) last = end;
    live.first[v] = first;
    live.last[v] = last;
  }

  if (!options.in_place) return live;
  // A node takes over an operand's buffer when its kernel may overwrite that
  // operand and the operand dies right here. Fed buffers belong to the caller
  // and outputs must survive, so neither is ever overwritten.
  for (NodeId v : order) {
    if (!live.in_arena(v) || g[v].info().is_leaf()) continue;
    std::vector<NodeId> in = g.inputs(v);
    for (std::size_t k = 0; k < in.size(); ++k) {
      NodeId u = in[k];
      if (!live.in_arena(u) || is_fed(g, u) || live.output[u]) continue;
      if (live.last[u] != live.step[v] || arena_bytes(g, u) != arena_bytes(g, v)) continue;
      if (!may_overwrite_input(g, v, static_cast<int>(k))) continue;
      live.reuses[v] = u;
      live.buffer_head[v] = live.buffer_head[u];
      break;
    }
  }
  return live;
}

std::size_t peak_live_bytes(const Graph& g, const Liveness& live) {
  // Each buffer (an in-place chain counts once) adds its bytes over its
  // interval: a difference array over the steps.
  std::vector<long long> delta(static_cast<std::size_t>(live.steps) + 1, 0);
  std::vector<int> chain_last(g.size(), -1);
  for (NodeId v = 0; v < g.size(); ++v)
    if (live.in_arena(v)) chain_last[live.buffer_head[v]] = std::max(chain_last[live.buffer_head[v]], live.last[v]);
  for (NodeId head = 0; head < g.size(); ++head) {
    if (!live.in_arena(head) || live.buffer_head[head] != head) continue;
    auto bytes = static_cast<long long>(arena_bytes(g, head));
    delta[static_cast<std::size_t>(live.first[head])] += bytes;
    delta[static_cast<std::size_t>(chain_last[head]) + 1] -= bytes;
  }
  long long current = 0, peak = 0;
  for (int s = 0; s < live.steps; ++s) {
    current += delta[static_cast<std::size_t>(s)];
    peak = std::max(peak, current);
  }
  return static_cast<std::size_t>(peak);
}

std::size_t peak_live_bytes(const Graph& g, const std::vector<NodeId>& order, const LivenessOptions& options) {
  return peak_live_bytes(g, analyse_liveness(g, order, options));
}

}  // namespace kiln
