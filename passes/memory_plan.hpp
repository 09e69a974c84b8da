#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "passes/liveness.hpp"

namespace kiln {

struct MemoryOptions {
  // Let a node take over the buffer of an operand that dies at it, where the
  // op allows (passes/in_place.hpp).
  bool in_place = true;
  // Further nodes whose values must survive the step (as ScheduleOptions).
  std::vector<NodeId> outputs;
  // Rounds of local search on the placement order after the classic orders
  // (each round re-places every buffer once; fewer on large plans).
  std::size_t search_rounds = 2000;
};

// Where one arena node's output lives, and when.
struct BufferPlan {
  NodeId node = 0;
  std::size_t offset = 0, bytes = 0;  // bytes: numel · dtype size, rounded up to kArenaAlignment
  int first = 0, last = 0;            // schedule steps, inclusive
  std::optional<NodeId> reuses;       // in place: shares the buffer of this operand
};

struct MemoryPlan {
  std::vector<BufferPlan> buffers;  // one per arena node, in schedule order
  std::size_t arena_bytes = 0;
  std::size_t lower_bound = 0;  // the most bytes live at one step: no arena can be smaller
  std::size_t naive_bytes = 0;  // every arena buffer on its own, no reuse
  std::map<NodeId, std::size_t> index;  // node -> position in `buffers`
  std::string placement;                // which placement order gave the arena

  // lower_bound / arena_bytes; 1 for an empty arena.
  double efficiency() const;
  const BufferPlan& buffer(NodeId id) const;  // throws kiln::Error when `id` has no buffer
  // "arena 1.2 MiB (lower bound 1.1 MiB, 98.0%; naive 3.4 MiB), 41 buffers, 7 in place"
  std::string summary() const;
};

// Plans the activation arena of one step run in `order`: liveness intervals
// over the order, in-place sharing where an op allows it and the operand dies
// there, then offsets chosen over the whole schedule at once. Buffers (an
// in-place chain counts as one) are placed in turn at the offset of the
// smallest gap between already placed, time-overlapping buffers that holds
// them, or else at the lowest free offset; several placement orders are tried
// (by size, by interval length, by area, by start; best fit and first fit),
// then a seeded local search moves blocks earlier in the best order while the
// arena does not grow; it stops at the lower bound. Throws kiln::Error when `order` is
// not a valid schedule.
MemoryPlan plan_memory(const Graph& g, const std::vector<NodeId>& order, const MemoryOptions& options = {});

// Checks a plan against the graph and the order, independently of how it was
// made: every arena node has exactly one buffer and no other node has one;
// each buffer is large enough, aligned, inside the arena, and live at least
// from its node's step to its last reader (to the end for outputs); an
// in-place buffer shares exactly the bytes of an operand that the op may
// overwrite and that dies at that step; and no two buffers that are live at
// the same step overlap, except an in-place node with its own operand at the
// handover step. Throws kiln::Error naming both nodes, their steps and byte
// ranges.
void verify_memory_plan(const Graph& g, const std::vector<NodeId>& order, const MemoryPlan& plan);

}  // namespace kiln
