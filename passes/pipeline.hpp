#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "passes/allreduce.hpp"
#include "passes/memory_plan.hpp"
#include "passes/optimizer.hpp"
#include "passes/rewrite.hpp"
#include "passes/schedule.hpp"

namespace kiln {

#if defined(KILN_VERIFY_EVERY_PASS) && KILN_VERIFY_EVERY_PASS
inline constexpr bool kVerifyEveryPassByDefault = true;
#else
inline constexpr bool kVerifyEveryPassByDefault = false;
#endif

struct CompileOptions {
  // --no-fuse: skip both fusion passes (the unfused plan, for comparison).
  bool fuse = true;
  // --no-simplify: skip CSE, DCE, folding and algebra.
  bool simplify = true;
  // false: a forward-only graph (an evaluation plan): no autodiff and no
  // backward fusion; the graph needs no loss.
  bool differentiate = true;
  // Run graph/verify.hpp's verifier after every pass, naming the pass that
  // broke an invariant. On by default in builds configured with
  // -DKILN_VERIFY_EVERY_PASS=ON, and whenever the environment variable
  // KILN_VERIFY_EVERY_PASS is set to anything but "" or "0"; tests turn it on.
  bool verify_each_pass = kVerifyEveryPassByDefault;
  // The nodes to differentiate with respect to; empty: every param.
  std::vector<std::string> wrt;
  // Further nodes the caller reads by name after a step (e.g. the logits of
  // an evaluation plan, or a gradient autodiff makes, such as "grad/fc1/W"):
  // never fused away, merged or removed.
  std::vector<std::string> outputs;
  // optimizer_update: appended after simplify when set, so the graph is a
  // whole training step (forward, backward, update). Needs differentiate.
  std::optional<OptimizerOptions> optimizer;
  // allreduce: with ranks > 1 (and differentiate) every gradient becomes the
  // mean over the ranks before its update, reduced in buckets as the
  // thresholds say. Only a count: the communicator belongs to the runtime,
  // and runtime/compile.cpp sets ranks from it.
  AllreduceOptions allreduce;
  // fuse_update folds each SGD weight gradient into its update (with fuse and
  // an optimizer). true keeps every weight gradient a node of its own, e.g.
  // so a numerics check sees a bad gradient before it reaches its param.
  bool keep_weight_gradients = false;
  // schedule: the order one step runs the graph in (CompiledGraph::schedule),
  // checked with verify_schedule. memory_plan: the arena over that order
  // (CompiledGraph::memory); it implies schedule. Both off by default: a
  // caller that only wants the fused or backward graph pays for neither.
  bool schedule = false;
  bool plan_memory = false;
  // memory_plan: fed values (input and labels) stay live for the whole step,
  // as a Plan needs: a batch written before one step is intact after it.
  bool keep_fed_values = true;
  // What the memory planner is told besides its outputs (in-place sharing,
  // search rounds). `memory.outputs` must stay empty: ids of the input graph
  // mean nothing after the passes, so the pipeline fills it from `outputs`
  // and, with keep_fed_values, the fed nodes (memory_options_for in
  // pipeline.cpp).
  MemoryOptions memory;
  // Writes the graph as it stands after the pass named here (one of
  // pipeline_pass_names(); "verify" gives the input graph) to dump_path:
  // Graphviz DOT when the path ends in ".dot", JSON when it ends in ".json".
  // A DOT dump after schedule or memory_plan shows each node's step, and
  // after memory_plan each buffer's arena offset and size.
  std::string dump_after;
  std::string dump_path;
  // Writes a graph as JSON to a path. Passes may not depend on frontends/,
  // where the JSON writer lives, so the caller (the command line) sets this
  // to frontends/json.hpp's writer; a .json dump without it is an error.
  std::function<void(const Graph&, const std::string& path)> dump_json;
};

struct CompiledGraph {
  Graph graph;
  // One entry per pass that ran, in order.
  std::vector<PassStats> stats;
  // Set when the schedule pass ran: `order` is the step's node order over
  // `graph`, `dropped` the nodes nothing the step keeps needs.
  std::optional<ScheduleReport> schedule;
  // Set when the memory_plan pass ran: the arena over schedule->order.
  std::optional<MemoryPlan> memory;
};

// The compile pipeline, one ordered list of passes (kPasses in pipeline.cpp):
//   verify -> fuse_forward -> autodiff -> fuse_backward -> simplify
//   -> optimizer_update -> allreduce -> fuse_update -> schedule -> memory_plan
// Each pass is switched by the options; disabled passes leave the graph as
// it is and report no stats. Throws kiln::Error for an invalid input graph,
// an unknown pass in dump_after (listing the pass names), an optimizer
// without differentiate, node ids in memory.outputs, a name in `outputs`
// that neither the input nor (when differentiating) autodiff's result has, a
// dump path with another extension or that cannot be written, and whatever
// the passes reject (e.g. autodiff without a loss, allreduce.ranks < 1),
// naming the pass when a check fails after it (with verify_each_pass:
// graph/verify.hpp's verifier after a pass that changes the graph,
// verify_schedule after schedule, verify_memory_plan after memory_plan).
CompiledGraph run_pipeline(const Graph& input, const CompileOptions& options = {});

// The pass names in pipeline order, as dump_after and --stats know them.
std::vector<std::string> pipeline_pass_names();

// A table for `kiln compile --stats`: one row per pass with its node counts
// before and after and the rules that fired, e.g.
//   pass           nodes before  after  fired
//   fuse_forward             12      9  affine=2 affine_relu=1
std::string format_stats(const std::vector<PassStats>& stats);

}  // namespace kiln
