#include "passes/schedule_dot.hpp"

#include <string>

#include "passes/liveness.hpp"

namespace kiln {
namespace {

std::string place(std::size_t offset, std::size_t bytes) {
  return "offset " + std::to_string(offset) + ", " + std::to_string(bytes) + " B";
}

void describe_buffer(const Graph& g, NodeId id, const MemoryPlan& m, const std::vector<NodeId>& head,
                     const std::vector<int>& chain_size, int end, DotOptions& dot) {
  auto at = m.index.find(id);
  if (at == m.index.end()) return;
  std::vector<std::string>& lines = dot.extra_lines[id];
  const BufferPlan& b = m.buffers[at->second];
  lines.push_back(place(b.offset, b.bytes));
  if (g[id].op == OpKind::get_output)
    lines.push_back("written at step " + std::to_string(b.first) + " by " + g[g.inputs(id)[0]].name);
  if (b.reuses) lines.push_back("in place of " + g[*b.reuses].name);
  if (is_fed(g, id)) lines.push_back("fed");
  else if (b.last == end) lines.push_back("kept to the end");
  if (chain_size[head[id]] > 1) {
    const BufferPlan& h = m.buffer(head[id]);
    dot.cluster[id] = "buffer @" + std::to_string(h.offset) + ", " + std::to_string(h.bytes) + " B";
  }
}

}  // namespace

DotOptions schedule_dot_options(const Graph& g, const std::vector<NodeId>& order, const MemoryPlan* memory) {
  DotOptions dot;
  std::vector<int> step(g.size(), -1);
  for (std::size_t i = 0; i < order.size(); ++i) step[order[i]] = static_cast<int>(i);
  const int end = static_cast<int>(order.size()) - 1;

  // The head of each in-place chain, and how many nodes share its buffer.
  std::vector<NodeId> head(g.size());
  std::vector<int> chain_size(g.size(), 0);
  for (NodeId id = 0; id < g.size(); ++id) head[id] = id;
  if (memory)
    for (const BufferPlan& b : memory->buffers) {
      if (b.reuses) head[b.node] = head[*b.reuses];
      ++chain_size[head[b.node]];
    }

  for (NodeId id : g.ids()) {
    const Node& n = g[id];
    std::vector<std::string>& lines = dot.extra_lines[id];
    const std::size_t bytes = static_cast<std::size_t>(n.shape.numel()) * dtype_size(n.dtype);
    if (n.op == OpKind::param) {
      lines.push_back("param store, " + std::to_string(bytes) + " B");
      continue;
    }
    if (n.op == OpKind::constant) {
      lines.push_back("constant, " + std::to_string(bytes) + " B");
      continue;
    }
    if (step[id] < 0) {
      lines.push_back("not scheduled");
      continue;
    }
    lines.push_back("step " + std::to_string(step[id]));
    if (std::optional<NodeId> target = overwritten_persistent(g, id)) {
      lines.push_back("writes " + g[*target].name + " in place");
      continue;
    }
    if (memory) describe_buffer(g, id, *memory, head, chain_size, end, dot);
  }
  for (NodeId id : g.ids())
    if (g[id].info().category == Category::fused && !dot.cluster.count(id))
      dot.cluster[id] = "fused " + std::string(op_name(g[id].op)) + " " + g[id].name;
  return dot;
}

}  // namespace kiln
