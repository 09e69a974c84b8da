#pragma once
#include <cstddef>

#include "graph/graph.hpp"
#include "passes/rewrite.hpp"

namespace kiln {

struct AllreduceOptions {
  // The processes the step runs on; each feeds its own rows of the global
  // batch. 1: the pass changes nothing.
  int ranks = 1;
  // A gradient of fewer bytes than this is bucketed with other small ones
  // into one reduction call (per-call latency dominates them); a larger one
  // is reduced alone, started as soon as it is written.
  std::size_t bucket_below_bytes = 64 * 1024;
  // The most bytes one bucket packs.
  std::size_t bucket_bytes = 256 * 1024;
};

// The data-parallel pass, run after the optimizer update is appended and
// before fuse_update (passes/pipeline.cpp, when CompileOptions::allreduce
// has more than one rank: runtime/compile.cpp sets it from
// PlanOptions::communicator). Every gradient in Graph::gradients() becomes the
// mean of that gradient over the ranks before anything reads it:
//
//   G -> allreduce_start(G) -> allreduce_wait(·, factor 1/ranks) -> update
//
// Each rank's loss is a mean over its own rows, so the mean over the ranks of
// their gradients is the gradient of the mean over the global batch, and the
// update equals the one-process update on the whole batch. Gradients
// smaller than bucket_below_bytes are packed, up to
// bucket_bytes in all (any number of them), into one allreduce_start whose waited sum each reads
// back through an allreduce_slice; they are grouped in the order the backward
// pass can make them (last layer first: by the longest chain of nodes each
// depends on). Graph::gradients() then names the
// reduced gradient ("grad/fc1/W/allreduced"), so Plan::gradient() reads the
// global one.
//
// The SGD fold into the weight-gradient GEMM (passes/fuse_update.hpp) no
// longer matches: the gradient's reader is a collective, not the update.
// The scheduler (passes/schedule.hpp) starts each reduction right after its
// gradients and the loss are computed and waits for it right before its first
// reader, so the reductions overlap the rest of the backward pass.
// Throws kiln::Error for ranks < 1.
Graph insert_allreduce(const Graph& g, PassStats& stats, const AllreduceOptions& options);

}  // namespace kiln
