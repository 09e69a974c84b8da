#pragma once
// A deliberately plain re-statement of the liveness rules (DESIGN: what lives
// where), used as the independent reference for the schedule and memory-plan
// tests. It shares no code with passes/liveness.cpp.
#include <algorithm>
#include <cstddef>
#include <map>
#include <vector>

#include "graph/graph.hpp"

namespace kiln::testing {

struct ReferenceSpan {
  int first = 0, last = 0;
  std::size_t bytes = 0;
};

// Params, constants and final updates written over a param need no arena.
inline bool reference_persistent(const Graph& g, NodeId v) {
  const Node& n = g[v];
  if (n.op == OpKind::param || n.op == OpKind::constant) return true;
  if (n.role != Role::update || !g.consumers(v).empty()) return false;
  std::vector<NodeId> in = g.inputs(v);
  return !in.empty() && g[in[0]].op == OpKind::param && g[in[0]].shape == n.shape && g[in[0]].dtype == n.dtype;
}

// Per arena node of `order`: from its step (0 when fed) to its last reader's
// step, or to the end for the loss and gradients no update reads. A
// get_output's buffer is written by the node it reads, so it starts there,
// and reading it is no use of that node's own value.
inline std::map<NodeId, ReferenceSpan> reference_liveness(const Graph& g, const std::vector<NodeId>& order,
                                                          const std::vector<NodeId>& extra_outputs = {}) {
  std::map<NodeId, int> pos;
  for (std::size_t i = 0; i < order.size(); ++i) pos[order[i]] = static_cast<int>(i);
  const int end = static_cast<int>(order.size()) - 1;
  std::vector<NodeId> outputs = extra_outputs;
  if (g.loss()) outputs.push_back(*g.loss());
  for (const auto& [of, grad] : g.gradients()) {
    bool updated = false;
    for (NodeId r : g.consumers(grad))
      if (pos.count(r) && g[r].role == Role::update) updated = true;
    if (!updated) outputs.push_back(grad);
  }
  std::map<NodeId, ReferenceSpan> spans;
  for (NodeId v : order) {
    if (reference_persistent(g, v)) continue;
    const Node& n = g[v];
    ReferenceSpan s;
    s.first = (n.op == OpKind::input || n.op == OpKind::labels) ? 0 : pos[v];
    if (n.op == OpKind::get_output) s.first = pos[g.inputs(v)[0]];
    s.last = pos[v];
    for (NodeId r : g.consumers(v))
      if (pos.count(r) && g[r].op != OpKind::get_output) s.last = std::max(s.last, pos[r]);
    if (std::find(outputs.begin(), outputs.end(), v) != outputs.end()) s.last = end;
    std::size_t raw = static_cast<std::size_t>(n.shape.numel()) * (n.dtype == DType::f64 ? 8 : 4);
    s.bytes = (raw + 63) / 64 * 64;
    spans[v] = s;
  }
  return spans;
}

// The most bytes live at one step with no buffer sharing, step by step.
inline std::size_t reference_peak(const std::map<NodeId, ReferenceSpan>& spans, std::size_t steps) {
  std::size_t peak = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    std::size_t live = 0;
    for (const auto& [v, span] : spans)
      if (span.first <= static_cast<int>(s) && static_cast<int>(s) <= span.last) live += span.bytes;
    peak = std::max(peak, live);
  }
  return peak;
}

}  // namespace kiln::testing
