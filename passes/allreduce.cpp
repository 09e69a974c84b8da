#include "passes/allreduce.hpp"

#include <algorithm>
#include <map>

#include "graph/error.hpp"

namespace kiln {
namespace {

std::size_t bytes_of(const Node& n) { return static_cast<std::size_t>(n.shape.numel()) * dtype_size(n.dtype); }

// Gradients reduced by one call, emitted right after the last of them is
// copied (the highest id), so every reader, all later, sees the result.
struct Group {
  std::vector<NodeId> gradients;
  NodeId last() const { return *std::max_element(gradients.begin(), gradients.end()); }
};

bool readers_all_after(const Graph& g, const std::vector<NodeId>& members, NodeId point) {
  for (NodeId m : members)
    for (NodeId r : g.consumers(m))
      if (r <= point) return false;
  return true;
}

std::vector<Group> plan_groups(const Graph& g, const AllreduceOptions& o) {
  std::vector<NodeId> grads;
  for (const auto& [of, grad] : g.gradients())
    if (std::find(grads.begin(), grads.end(), grad) == grads.end()) grads.push_back(grad);
  std::vector<Group> groups;
  std::vector<NodeId> small;
  for (NodeId grad : grads) {
    if (bytes_of(g[grad]) >= o.bucket_below_bytes) groups.push_back({{grad}});
    else small.push_back(grad);
  }
  // Buckets are filled in the order the gradients can be ready: by the
  // longest chain of nodes each waits for (the last layer's are shallower
  // than the first's, whose backward runs through every layer above).
  std::vector<std::size_t> depth(g.size(), 0);
  for (NodeId v : g.ids())
    for (NodeId in : g.inputs(v)) depth[v] = std::max(depth[v], depth[in] + 1);
  std::stable_sort(small.begin(), small.end(), [&](NodeId a, NodeId b) { return depth[a] < depth[b]; });
  Group open;
  std::size_t open_bytes = 0;
  auto close = [&] {
    if (open.gradients.empty()) return;
    if (open.gradients.size() > 1 && !readers_all_after(g, open.gradients, open.last())) {
      // A member read before the bucket could be complete: each alone.
      for (NodeId m : open.gradients) groups.push_back({{m}});
    } else {
      groups.push_back(open);
    }
    open = {};
    open_bytes = 0;
  };
  for (NodeId grad : small) {
    const std::size_t b = bytes_of(g[grad]);
    const bool fits = open_bytes + b <= o.bucket_bytes &&
                      (open.gradients.empty() || g[open.gradients[0]].dtype == g[grad].dtype);
    if (!fits) close();
    open.gradients.push_back(grad);
    open_bytes += b;
  }
  close();
  return groups;
}

}  // namespace

Graph insert_allreduce(const Graph& g, PassStats& stats, const AllreduceOptions& options) {
  if (options.ranks < 1) throw Error("allreduce: expected at least 1 rank, found " + std::to_string(options.ranks));
  stats.nodes_before = g.size();
  if (options.ranks == 1 || g.gradients().empty()) {
    stats.nodes_after = g.size();
    return g;
  }
  std::vector<Group> groups = plan_groups(g, options);
  std::multimap<NodeId, std::size_t> emit_after;  // source id -> group
  for (std::size_t i = 0; i < groups.size(); ++i) emit_after.emplace(groups[i].last(), i);

  Graph out;
  std::vector<NodeId> copied(g.size()), seen_by_readers(g.size());
  Attrs mean;
  mean.factor = 1.0 / options.ranks;
  int buckets = 0;
  for (NodeId v : g.ids()) {
    const Node& n = g[v];
    std::vector<NodeId> inputs;
    for (NodeId in : g.inputs(v)) inputs.push_back(seen_by_readers[in]);
    copied[v] = seen_by_readers[v] = out.add_explicit(n.op, inputs, n.shape, n.dtype, n.attrs, n.name, n.role);

    auto [first, last] = emit_after.equal_range(v);
    for (auto it = first; it != last; ++it) {
      const Group& group = groups[it->second];
      std::vector<NodeId> operands;
      for (NodeId m : group.gradients) operands.push_back(copied[m]);
      if (group.gradients.size() == 1) {
        const std::string base = g[group.gradients[0]].name;
        NodeId start = out.add(OpKind::allreduce_start, operands, {}, out.unique_name(base + "/allreduce_start"),
                               Role::backward);
        seen_by_readers[group.gradients[0]] =
            out.add(OpKind::allreduce_wait, {start}, mean, out.unique_name(base + "/allreduced"), Role::backward);
        stats.count("allreduce");
        continue;
      }
      const std::string bucket = "allreduce/bucket" + std::to_string(buckets++);
      NodeId start = out.add(OpKind::allreduce_start, operands, {}, out.unique_name(bucket + "/start"), Role::backward);
      NodeId wait = out.add(OpKind::allreduce_wait, {start}, mean, out.unique_name(bucket + "/wait"), Role::backward);
      std::int64_t offset = 0;
      for (NodeId m : group.gradients) {
        Attrs slice;
        slice.offset = offset;
        offset += g[m].shape.numel();
        seen_by_readers[m] = out.add_explicit(OpKind::allreduce_slice, {wait}, g[m].shape, g[m].dtype, slice,
                                              out.unique_name(g[m].name + "/allreduced"), Role::backward);
      }
      stats.count("bucket");
      stats.count("bucketed", static_cast<int>(group.gradients.size()));
    }
  }
  if (std::optional<NodeId> loss = g.loss()) out.set_loss(copied[*loss]);
  for (const auto& [of, grad] : g.gradients()) out.set_gradient(copied[of], seen_by_readers[grad]);
  stats.nodes_after = out.size();
  return out;
}

}  // namespace kiln
