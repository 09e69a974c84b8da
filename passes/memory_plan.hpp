#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "passes/liveness.hpp"

namespace kiln {

// Bytes of working memory the kernel of node `id` needs while it runs; 0 for
// none. passes/ cannot ask the runtime's kernels, so the runtime passes its
// answer in (runtime/kernel_scratch.hpp, node_scratch_bytes).
using ScratchBytes = std::function<std::size_t(const Graph& g, NodeId id)>;

struct MemoryOptions {
  // Let a node take over the buffer of an operand that dies at it, where the
  // op allows (passes/in_place.hpp).
  bool in_place = true;
  // Further nodes whose values must survive the step (as ScheduleOptions).
  std::vector<NodeId> outputs;
  // Rounds of local search on the placement order after the classic orders
  // (each round re-places every buffer once; fewer on large plans).
  std::size_t search_rounds = 2000;
  // Scratch each scheduled node's kernel needs, placed in the arena and live
  // only at that node's step; empty: no kernel needs any.
  ScratchBytes scratch_bytes;
};

// Where one arena node's output lives, and when.
struct BufferPlan {
  NodeId node = 0;
  std::size_t offset = 0, bytes = 0;  // bytes: numel · dtype size, rounded up to kArenaAlignment
  int first = 0, last = 0;            // schedule steps, inclusive
  std::optional<NodeId> reuses;       // in place: shares the buffer of this operand
};

// A kernel's scratch: arena bytes that only the call of `node` uses, at its
// step and no other.
struct ScratchPlan {
  NodeId node = 0;
  std::size_t offset = 0, bytes = 0;  // bytes: as declared, rounded up to kArenaAlignment
  int step = 0;
};

struct MemoryPlan {
  std::vector<BufferPlan> buffers;  // one per arena node, in schedule order
  std::vector<ScratchPlan> scratch;  // one per node that declares scratch, in schedule order
  std::size_t arena_bytes = 0;
  std::size_t lower_bound = 0;  // the most bytes live at one step, scratch included: no arena can be smaller
  std::size_t naive_bytes = 0;  // every arena buffer and scratch range on its own, no reuse
  std::size_t scratch_bytes = 0;  // Σ of the scratch ranges (each counted in naive_bytes too)
  std::map<NodeId, std::size_t> index;  // node -> position in `buffers`
  std::map<NodeId, std::size_t> scratch_index;  // node -> position in `scratch`
  std::string placement;                // which placement order gave the arena

  // lower_bound / arena_bytes; 1 for an empty arena.
  double efficiency() const;
  const BufferPlan& buffer(NodeId id) const;  // throws kiln::Error when `id` has no buffer
  const ScratchPlan* scratch_of(NodeId id) const;  // nullptr when `id` has no scratch
  // "arena 1.2 MiB (lower bound 1.1 MiB, 98.0%; naive 3.4 MiB), 41 buffers, 7 in place"
  // and, when some kernel has scratch, ", 2 scratch ranges (12 KiB)"
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
// arena does not grow; it stops at the lower bound. A kernel's scratch
// (options.scratch_bytes) is one more block, live at its node's step only. Throws kiln::Error when `order` is
// not a valid schedule.
MemoryPlan plan_memory(const Graph& g, const std::vector<NodeId>& order, const MemoryOptions& options = {});

// Checks a plan against the graph and the order, independently of how it was
// made: every arena node has exactly one buffer and no other node has one;
// each buffer is large enough, aligned, inside the arena, and live at least
// from its node's step to its last reader (to the end for outputs); an
// in-place buffer shares exactly the bytes of an operand that the op may
// overwrite and that dies at that step; and no two buffers that are live at
// the same step overlap, except an in-place node with its own operand at the
// handover step. Each scratch range belongs to a scheduled node, at most one
// per node, at that node's step, aligned, inside the arena, and overlaps no
// buffer live at that step; with `scratch_bytes`, exactly the nodes that
// declare scratch have a range, at least that large. Throws kiln::Error
// naming both nodes, their steps and byte ranges.
void verify_memory_plan(const Graph& g, const std::vector<NodeId>& order, const MemoryPlan& plan,
                        const ScratchBytes& scratch_bytes = {});

}  // namespace kiln
