#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace kiln {

struct ScheduleOptions {
  // Further nodes to keep and keep alive to the end of the step (e.g. the
  // logits of an evaluation plan), besides the loss, the gradients and the
  // update nodes. Pass the same nodes to the memory planner.
  std::vector<NodeId> outputs;
};

// What the scheduler decided, for reports and tests.
struct ScheduleReport {
  std::vector<NodeId> order;
  // Nodes that neither the loss, a gradient, an update node nor an extra
  // output needs: left out of the order, in creation order.
  std::vector<NodeId> dropped;
  // The candidate orders tried and the peak live bytes of each (liveness with
  // in-place sharing, passes/liveness.hpp); `order` is the first with the
  // smallest peak. Names: "memory-greedy", "last-reads-first",
  // "depth-first", "creation".
  struct Candidate {
    std::string name;
    std::size_t peak_bytes = 0;
  };
  std::vector<Candidate> candidates;
  std::string chosen;
  std::size_t peak_bytes = 0;
  std::size_t creation_order_peak_bytes = 0;
};

// A topological order of the nodes needed for the step, chosen to keep the
// peak of live arena bytes low. Leaves come first (they run no kernel). The
// rest is ordered by a list scheduler over the ready set that prefers the node
// that frees the most bytes net of what it allocates (the last reader of a
// big buffer), then the node with the smallest output, then creation order.
// Being greedy it can lose to simpler orders on some graphs, so a second
// greedy ranking (bytes freed first), a depth-first order and creation order
// are scored too and the lowest peak wins: the result is never worse than
// creation order. An update node that overwrites a param runs after every
// other reader of that param, and after the loss (so the Plan can check the
// loss for NaN/Inf before any param is overwritten).
// Data-parallel reductions (passes/allreduce.hpp) also start after the loss;
// once an order is chosen, each allreduce_start moves up to right after its
// gradients, and each allreduce_wait / allreduce_slice down to right before
// its first reader, so communication overlaps the rest of the backward pass.
std::vector<NodeId> schedule(const Graph& g, const ScheduleOptions& options = {});
ScheduleReport schedule_with_report(const Graph& g, const ScheduleOptions& options = {});

// The nodes the step needs: the loss, the gradients, the update nodes and
// `outputs`, with everything they read. When the graph has none of these,
// every node without consumers counts as an output. Indexed by NodeId.
std::vector<bool> needed_nodes(const Graph& g, const ScheduleOptions& options = {});

// Throws kiln::Error naming the node when `order` lists a node twice or a
// nonexistent id, schedules a node before one of its operands or leaves an
// operand out (params and constants may be left out: they are persistent),
// or runs an update that overwrites a param before another reader of that
// param or before the loss.
void verify_schedule(const Graph& g, const std::vector<NodeId>& order);

}  // namespace kiln
