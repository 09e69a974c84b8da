#pragma once
#include <cstddef>
#include <optional>
#include <vector>

#include "graph/graph.hpp"

namespace kiln {

// What lives where during one training step, and for how long. Shared by the
// scheduler (to compare orders) and the memory planner (to place buffers).
//
// - Persistent tensors live in the parameter store, not in the arena: params,
//   constants, and update nodes that overwrite a persistent tensor in place
//   (see overwritten_persistent).
// - Every other node's output is an arena buffer of numel · dtype_size bytes,
//   rounded up to kArenaAlignment.
// - input and labels buffers are fed before the step: live from step 0.
// - A multi-output node writes its output k >= 1 into the buffer of its
//   get_output node for k (graph/ops.def), so that buffer is live from the
//   multi-output node's step; the get_output node itself computes nothing.
// - The loss and every gradient in Graph::gradients() are outputs: live to the
//   end of the step. A gradient that an update node consumes is not an
//   output (the update is its last use); the loss always is.

inline constexpr std::size_t kArenaAlignment = 64;

constexpr std::size_t align_up(std::size_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

// The param that update node `id` writes in place, if it does:
// - an optimizer-update op (Category::update in graph/ops.def) always
//   overwrites its operand 0; when operand 0 is itself an update's output
//   (Adam's step reading the new moments), the param at the root of that chain;
// - otherwise an update node (Role::update) built from ordinary ops that no
//   node reads and whose operand 0 is a param of the node's own shape and
//   dtype is the param's new value (e.g. sub(W, scale(grad/W))).
// Optimizer state is a param too. Every other update node (e.g. that scale)
// is ordinary arena scratch.
std::optional<NodeId> overwritten_persistent(const Graph& g, NodeId id);

// Params, constants, and updates that overwrite one of them in place.
bool is_persistent(const Graph& g, NodeId id);

// input and labels: fed from outside before the step runs.
bool is_fed(const Graph& g, NodeId id);

// Aligned arena bytes of a node's output; 0 for a persistent node.
std::size_t arena_bytes(const Graph& g, NodeId id);

// The step at which the buffer of `id` is written: its own, or for a
// get_output node that of the node whose output it names.
int written_at(const Graph& g, NodeId id, const std::vector<int>& step);

// Arena bytes the kernel of `id` writes when it runs: its own buffer and the
// buffers of its get_output nodes (0 for a get_output node itself).
std::size_t bytes_written(const Graph& g, NodeId id);

struct LivenessOptions {
  // Share the buffer of an operand that dies at a node that may overwrite it
  // (passes/in_place.hpp).
  bool in_place = true;
  // Further nodes whose values must survive the step (e.g. the logits of an
  // evaluation plan), besides the loss and the gradients.
  std::vector<NodeId> outputs;
};

// Liveness of every arena node of a schedule. Steps are indices into the
// order; intervals are inclusive.
struct Liveness {
  static constexpr int kNotScheduled = -1;
  std::vector<int> step;                       // by NodeId; kNotScheduled when absent
  std::vector<int> first, last;                // by NodeId; meaningful for arena nodes in the order
  std::vector<bool> output;                    // by NodeId: must survive to the end of the step
  std::vector<std::optional<NodeId>> reuses;   // by NodeId: shares the buffer of this operand
  // The in-place chain a node belongs to, named by the chain's first node;
  // a chain is one buffer, live from its head's first step to its tail's last.
  std::vector<NodeId> buffer_head;             // by NodeId
  int steps = 0;

  bool in_arena(NodeId id) const { return step[id] != kNotScheduled && first[id] >= 0; }
};

// Throws kiln::Error when `order` is not a valid schedule (see verify_schedule
// in passes/schedule.hpp).
Liveness analyse_liveness(const Graph& g, const std::vector<NodeId>& order, const LivenessOptions& options = {});

// The most arena bytes live at any one step (an in-place chain counted once):
// no arena for this order can be smaller.
std::size_t peak_live_bytes(const Graph& g, const std::vector<NodeId>& order, const LivenessOptions& options = {});
std::size_t peak_live_bytes(const Graph& g, const Liveness& live);

}  // namespace kiln
