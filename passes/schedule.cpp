#include "passes/schedule.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "graph/error.hpp"
#include "passes/liveness.hpp"

namespace kiln {
namespace {

std::vector<NodeId> distinct_inputs(const Graph& g, NodeId v) {
  std::vector<NodeId> in = g.inputs(v);
  std::sort(in.begin(), in.end());
  in.erase(std::unique(in.begin(), in.end()), in.end());
  return in;
}

// The other readers of the param that update `v` overwrites: they must run
// before it, a write-after-read dependence the graph's edges do not carry.
// (Such an update has no readers of its own, so none of them comes after it.)
std::vector<NodeId> readers_before_overwrite(const Graph& g, NodeId v) {
  std::vector<NodeId> out;
  auto target = overwritten_persistent(g, v);
  if (!target) return out;
  for (NodeId r : g.consumers(*target))
    if (r != v && (out.empty() || out.back() != r)) out.push_back(r);
  return out;
}

std::optional<std::string> schedule_violation(const Graph& g, const std::vector<NodeId>& order) {
  const std::size_t n = g.size();
  std::vector<int> pos(n, -1);
  for (std::size_t i = 0; i < order.size(); ++i) {
    NodeId v = order[i];
    if (v >= n)
      return "schedule: step " + std::to_string(i) + " names node id " + std::to_string(v) +
             ", but the graph has " + std::to_string(n) + " nodes";
    if (pos[v] >= 0)
      return "schedule: " + describe(g, v) + " is listed twice, at steps " + std::to_string(pos[v]) + " and " +
             std::to_string(i);
    pos[v] = static_cast<int>(i);
  }
  for (NodeId v : order) {
    for (NodeId u : g.inputs(v)) {
      if (pos[u] < 0) {
        if (g[u].op == OpKind::param || g[u].op == OpKind::constant) continue;
        return "schedule: " + describe(g, v) + " at step " + std::to_string(pos[v]) + " reads " + describe(g, u) +
               ", which is not in the schedule";
      }
      if (pos[u] > pos[v])
        return "schedule: " + describe(g, v) + " runs at step " + std::to_string(pos[v]) + ", before its operand " +
               describe(g, u) + " at step " + std::to_string(pos[u]);
    }
    if (auto loss = g.loss(); loss && g[v].op == OpKind::allreduce_start && pos[*loss] > pos[v])
      return "schedule: " + describe(g, v) + " at step " + std::to_string(pos[v]) + " runs before the loss " +
             describe(g, *loss) + " at step " + std::to_string(pos[*loss]) +
             " (every rank must reach the loss check before a reduction starts)";
    if (!overwritten_persistent(g, v)) continue;
    for (NodeId r : readers_before_overwrite(g, v))
      if (pos[r] > pos[v])
        return "schedule: update " + describe(g, v) + " at step " + std::to_string(pos[v]) + " overwrites " +
               describe(g, *overwritten_persistent(g, v)) + " before its reader " + describe(g, r) + " at step " +
               std::to_string(pos[r]);
    if (auto loss = g.loss(); loss && pos[*loss] > pos[v])
      return "schedule: update " + describe(g, v) + " at step " + std::to_string(pos[v]) + " runs before the loss " +
             describe(g, *loss) + " at step " + std::to_string(pos[*loss]) +
             " (a non-finite loss must be seen before any param is overwritten)";
  }
  return std::nullopt;
}

// The scheduling problem restricted to the needed nodes: who must precede
// whom, and which values must survive the step.
struct Problem {
  std::vector<bool> needed;
  std::vector<std::vector<NodeId>> operands;  // distinct
  std::vector<std::vector<NodeId>> preds;     // operands + write-after-read readers
  std::vector<std::vector<NodeId>> succs;
  std::vector<int> readers;                // distinct needed consumers (data edges only)
  std::vector<bool> output;
  std::vector<NodeId> roots;
};

Problem make_problem(const Graph& g, const ScheduleOptions& options) {
  const std::size_t n = g.size();
  Problem p;
  p.needed = needed_nodes(g, options);
  p.operands.resize(n);
  p.preds.resize(n);
  p.succs.resize(n);
  p.readers.assign(n, 0);
  p.output.assign(n, false);
  const std::optional<NodeId> loss = g.loss();
  for (NodeId v = 0; v < n; ++v) {
    if (!p.needed[v]) continue;
    p.operands[v] = distinct_inputs(g, v);
    p.preds[v] = p.operands[v];
    for (NodeId u : p.operands[v]) ++p.readers[u];
    for (NodeId r : readers_before_overwrite(g, v))
      if (p.needed[r] && std::find(p.preds[v].begin(), p.preds[v].end(), r) == p.preds[v].end())
        p.preds[v].push_back(r);
    // The gradients start from a constant seed, not from the loss node, so
    // nothing in the data makes an update wait for the loss. The Plan checks
    // the loss before the first overwrite (and stops on NaN/Inf), which needs
    // the loss scheduled first.
    // A reduction starts after the loss: a rank that stops on a non-finite
    // loss then leaves no reduction half-started for the others to wait on.
    if (loss && p.needed[*loss] && *loss != v && (overwritten_persistent(g, v) || g[v].op == OpKind::allreduce_start) &&
        std::find(p.preds[v].begin(), p.preds[v].end(), *loss) == p.preds[v].end())
      p.preds[v].push_back(*loss);
    for (NodeId u : p.preds[v]) p.succs[u].push_back(v);
  }
  // The same outputs as the liveness analysis will see.
  if (loss) p.output[*loss] = true;
  for (const auto& [of, grad] : g.gradients()) {
    std::vector<NodeId> readers = g.consumers(grad);
    bool updated = std::any_of(readers.begin(), readers.end(),
                               [&](NodeId r) { return p.needed[r] && g[r].role == Role::update; });
    if (!updated) p.output[grad] = true;
  }
  for (NodeId v : options.outputs) p.output[v] = true;
  for (NodeId v = 0; v < n; ++v)
    if (p.needed[v] && p.succs[v].empty()) p.roots.push_back(v);
  return p;
}

std::vector<NodeId> leaves_first(const Graph& g, const std::vector<NodeId>& order) {
  std::vector<NodeId> out;
  out.reserve(order.size());
  for (NodeId v : order)
    if (g[v].info().is_leaf()) out.push_back(v);
  std::sort(out.begin(), out.end());
  for (NodeId v : order)
    if (!g[v].info().is_leaf()) out.push_back(v);
  return out;
}

std::vector<NodeId> creation_order(const Graph& g, const Problem& p) {
  std::vector<NodeId> order;
  for (NodeId v = 0; v < g.size(); ++v)
    if (p.needed[v]) order.push_back(v);
  return leaves_first(g, order);
}

// Post-order from each root in turn, operands in operand order: finishes one
// branch before starting the next.
std::vector<NodeId> depth_first_order(const Graph& g, const Problem& p) {
  std::vector<NodeId> order;
  std::vector<bool> entered(g.size(), false);
  for (NodeId root : p.roots) {
    std::vector<std::pair<NodeId, std::size_t>> stack{{root, 0}};
    entered[root] = true;
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next < p.preds[v].size()) {
        NodeId u = p.preds[v][next++];
        if (!entered[u]) {
          entered[u] = true;
          stack.emplace_back(u, 0);
        }
        continue;
      }
      order.push_back(v);
      stack.pop_back();
    }
  }
  return leaves_first(g, order);
}

// How the list scheduler ranks the ready nodes; ties go to the oldest node.
enum class Preference {
  net_bytes,   // most bytes freed net of the output's, then the smallest output
  last_reads,  // most bytes freed, then the smallest output
};

// The list scheduler: runs the ready node it prefers, one at a time.
std::vector<NodeId> memory_greedy_order(const Graph& g, const Problem& p, Preference preference) {
  const std::size_t n = g.size();
  std::vector<int> pending(n, 0), readers_left = p.readers;
  std::vector<NodeId> order, ready;
  auto retire = [&](NodeId v) {
    order.push_back(v);
    for (NodeId s : p.succs[v])
      if (--pending[s] == 0 && !g[s].info().is_leaf()) ready.push_back(s);
  };
  for (NodeId v = 0; v < n; ++v)
    if (p.needed[v]) pending[v] = static_cast<int>(p.preds[v].size());
  for (NodeId v = 0; v < n; ++v)
    if (p.needed[v] && g[v].info().is_leaf()) retire(v);
  for (NodeId v = 0; v < n; ++v)
    if (p.needed[v] && !g[v].info().is_leaf() && p.preds[v].empty()) ready.push_back(v);

  while (!ready.empty()) {
    std::size_t best = 0;
    long long best_key = std::numeric_limits<long long>::min();
    std::size_t best_alloc = 0;
    for (std::size_t i = 0; i < ready.size(); ++i) {
      NodeId v = ready[i];
      long long freed = 0;
      for (NodeId u : p.operands[v])
        if (readers_left[u] == 1 && !p.output[u]) freed += static_cast<long long>(arena_bytes(g, u));
      std::size_t alloc = bytes_written(g, v);
      bool dies_at_once = p.readers[v] == 0 && !p.output[v];
      long long key = preference == Preference::last_reads
                          ? freed
                          : freed - (dies_at_once ? 0 : static_cast<long long>(alloc));
      bool better = key > best_key || (key == best_key && alloc < best_alloc) ||
                    (key == best_key && alloc == best_alloc && v < ready[best]);
      if (better) {
        best = i;
        best_key = key;
        best_alloc = alloc;
      }
    }
    NodeId v = ready[best];
    ready.erase(ready.begin() + static_cast<std::ptrdiff_t>(best));
    for (NodeId u : p.operands[v]) --readers_left[u];
    retire(v);
  }
  return order;
}

bool is_collective(const Graph& g, NodeId v) { return g[v].info().category == Category::collective; }

// Communication overlaps computation only if each reduction starts as soon as
// its gradients (and the loss) are written and is waited for only when its
// result is first read. The memory-driven orders above know nothing of that,
// so the chosen order is rewritten: every other node keeps its place, each
// allreduce_start moves up to right after its last predecessor, each
// allreduce_wait and allreduce_slice down to right before its first reader
// (or to the end when nothing reads it). Returns `order` unchanged when the
// result would not be a valid schedule.
std::vector<NodeId> place_collectives(const Graph& g, const Problem& p, const std::vector<NodeId>& order) {
  const std::size_t n = g.size();
  std::vector<NodeId> starts;
  std::vector<int> pending(n, 0);
  for (NodeId v : order)
    if (g[v].op == OpKind::allreduce_start) {
      starts.push_back(v);
      pending[v] = static_cast<int>(p.preds[v].size());
    }
  if (starts.empty()) return order;
  std::vector<bool> emitted(n, false);
  std::vector<NodeId> out;
  out.reserve(order.size());
  auto emit = [&](NodeId v) {
    emitted[v] = true;
    out.push_back(v);
  };
  // Starts whose predecessors have all run, in the order they became ready.
  auto emit_ready_starts = [&](NodeId just_ran) {
    for (NodeId s : p.succs[just_ran])
      if (g[s].op == OpKind::allreduce_start && !emitted[s] && --pending[s] == 0) emit(s);
  };
  // Emits the collective chain `v` needs (a slice needs its wait, a wait its
  // start), operands first.
  auto emit_chain = [&](auto&& self, NodeId v) -> void {
    if (emitted[v]) return;
    for (NodeId u : p.preds[v])
      if (is_collective(g, u)) self(self, u);
    emit(v);
  };
  for (NodeId v : order) {
    if (is_collective(g, v)) continue;
    for (NodeId u : p.preds[v])
      if (is_collective(g, u)) emit_chain(emit_chain, u);
    emit(v);
    emit_ready_starts(v);
  }
  for (NodeId v : order)
    if (!emitted[v]) emit_chain(emit_chain, v);
  if (out.size() != order.size() || schedule_violation(g, out)) return order;
  return out;
}

}  // namespace

std::vector<bool> needed_nodes(const Graph& g, const ScheduleOptions& options) {
  const std::size_t n = g.size();
  std::vector<NodeId> roots;
  if (auto loss = g.loss()) roots.push_back(*loss);
  for (const auto& [of, grad] : g.gradients()) roots.push_back(grad);
  for (NodeId v = 0; v < n; ++v)
    if (g[v].role == Role::update) roots.push_back(v);
  for (NodeId v : options.outputs) {
    if (v >= n) throw Error("schedule: an extra output refers to node id " + std::to_string(v) + ", which does not exist");
    roots.push_back(v);
  }
  if (roots.empty())
    for (NodeId v = 0; v < n; ++v)
      if (g.consumers(v).empty()) roots.push_back(v);
  std::vector<bool> needed(n, false);
  for (NodeId r : roots) needed[r] = true;
  while (!roots.empty()) {
    NodeId v = roots.back();
    roots.pop_back();
    for (NodeId u : g.inputs(v))
      if (!needed[u]) {
        needed[u] = true;
        roots.push_back(u);
      }
  }
  return needed;
}

void verify_schedule(const Graph& g, const std::vector<NodeId>& order) {
  if (auto problem = schedule_violation(g, order)) throw Error(*problem);
}

ScheduleReport schedule_with_report(const Graph& g, const ScheduleOptions& options) {
  Problem p = make_problem(g, options);
  ScheduleReport report;
  for (NodeId v = 0; v < g.size(); ++v)
    if (!p.needed[v]) report.dropped.push_back(v);

  LivenessOptions live;
  live.outputs = options.outputs;
  std::pair<const char*, std::vector<NodeId>> candidates[] = {
      {"memory-greedy", memory_greedy_order(g, p, Preference::net_bytes)},
      {"last-reads-first", memory_greedy_order(g, p, Preference::last_reads)},
      {"depth-first", depth_first_order(g, p)},
      {"creation", creation_order(g, p)},
  };
  bool have = false;
  for (auto& [name, order] : candidates) {
    // Creation order can break a write-after-read rule when an update was
    // built before a reader of its param; such a candidate is skipped.
    if (schedule_violation(g, order)) continue;
    std::size_t peak = peak_live_bytes(g, order, live);
    report.candidates.push_back({name, peak});
    if (std::string(name) == "creation") report.creation_order_peak_bytes = peak;
    if (!have || peak < report.peak_bytes) {
      have = true;
      report.peak_bytes = peak;
      report.chosen = name;
      report.order = order;
    }
  }
  if (!have) throw Error("schedule: internal error: no candidate order is a valid schedule");
  if (std::vector<NodeId> placed = place_collectives(g, p, report.order); placed != report.order) {
    report.order = std::move(placed);
    report.peak_bytes = peak_live_bytes(g, report.order, live);
  }
  verify_schedule(g, report.order);
  return report;
}

std::vector<NodeId> schedule(const Graph& g, const ScheduleOptions& options) {
  return schedule_with_report(g, options).order;
}

}  // namespace kiln
