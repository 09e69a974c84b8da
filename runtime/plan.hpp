#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/error.hpp"
#include "graph/graph.hpp"
#include "passes/memory_plan.hpp"
#include "passes/optimizer.hpp"
#include "passes/pipeline.hpp"
#include "runtime/comm/communicator.hpp"
#include "runtime/params.hpp"
#include "runtime/plan_memory.hpp"
#include "runtime/tensor.hpp"

namespace kiln {

struct PlanOptions {
  CompileOptions compile;
  // The pipeline's optimizer_update pass when set (overriding
  // compile.optimizer): the plan then runs a whole training step (forward,
  // backward, update). Needs compile.differentiate.
  std::optional<OptimizerOptions> optimizer;
  // Initialises the params the store does not hold yet (ParamStore::initialise
  // semantics: each param's values depend only on the seed and its name).
  std::uint64_t seed = 0;
  // The most bytes the plan may allocate (arena + params + optimizer state +
  // constants, plan_memory_needs()); compile() refuses a larger plan before
  // allocating anything. 0: default_max_memory_bytes(), half of physical
  // memory.
  std::size_t max_memory_bytes = 0;
  // Check every node's output for NaN/Inf after its kernel runs and throw
  // kiln::Error at the first bad node (its op, each input's range, the step).
  // Off: the step loop does no per-node work for it. On at compile time, SGD
  // weight gradients are not folded into their updates (fuse_update), so a
  // bad gradient is caught before it reaches its param.
  bool check_numerics = false;
  // Check the loss right after the node that computes it and throw
  // NonFiniteLoss, before any update, when it is NaN or infinite. Tests that
  // compare NaN propagation with the reference Executor switch it off;
  // training should not.
  bool stop_on_non_finite_loss = true;
  // Data-parallel training: the ranks this plan runs on, one plan per rank
  // (runtime/comm/communicator.hpp: mpi_world() under mpirun,
  // thread_communicators() for threads of one process). Null or size 1: the
  // one-process plan, unchanged. With N > 1 ranks each rank feeds its own
  // rows (batch/N of them: the graph's batch dimension is the per-rank one)
  // and the pipeline gains passes/allreduce.hpp's reductions: every gradient
  // becomes the mean over the ranks before its update, so the update equals
  // the one-process update on the global batch, and step() returns the mean
  // of the ranks' losses (the global batch's loss). Every rank must compile
  // the same graph with the same options and call step() in lockstep; start
  // from the same params with broadcast_params() (runtime/comm/
  // broadcast_params.hpp).
  std::shared_ptr<Communicator> communicator;
  // passes/allreduce.hpp's bucketing thresholds, used when communicator has
  // more than one rank.
  std::size_t allreduce_bucket_below_bytes = 64 * 1024;
  std::size_t allreduce_bucket_bytes = 256 * 1024;
};

// Thrown by Plan::step()/run() when the loss comes out NaN or infinite. The
// loss is checked right after the kernel that computes it, and the schedule
// runs every update after the loss, so when this is thrown no param or
// optimizer state has been overwritten: the store still holds the values
// from before the step. what() names the first node of the forward pass that
// produced a non-finite value (found by re-running it with the numerics
// check), its op, its inputs' ranges and the step.
class NonFiniteLoss : public Error {
 public:
  NonFiniteLoss(const std::string& message, std::size_t step, std::string first_bad_node)
      : Error(message), step_(step), first_bad_node_(std::move(first_bad_node)) {}
  // The step, counting this plan's run() calls from 1.
  std::size_t step() const { return step_; }
  // The first node whose output was not finite ("" when none was found).
  const std::string& first_bad_node() const { return first_bad_node_; }

 private:
  std::size_t step_;
  std::string first_bad_node_;
};

// A read-only view of a value a plan holds (an arena buffer, a param or a
// constant). Valid while the plan lives; its contents change with each step.
struct TensorView {
  const void* data = nullptr;
  const Shape* shape = nullptr;
  DType dtype = DType::f32;

  std::size_t numel() const { return static_cast<std::size_t>(shape->numel()); }
  std::size_t bytes() const { return numel() * dtype_size(dtype); }
  // Typed access; throws kiln::Error unless T matches the dtype.
  template <class T>
  const T* as() const {
    if (dtype_of<T>() != dtype)
      throw Error("a " + type_str(*shape, dtype) + " value read as " + std::string(dtype_name(dtype_of<T>())));
    return static_cast<const T*>(data);
  }
  // Element i (row-major) as a double; throws kiln::Error when out of range.
  double get(std::size_t i) const;
  std::vector<double> values() const;
  // A deep copy.
  Tensor to_tensor() const;
};

// A compiled, executable training (or evaluation) step: the compiled graph,
// its schedule and memory plan, a parameter store, one 64-byte-aligned
// activation arena, and a flat list of kernel calls whose every pointer was
// resolved when the plan was built. step() walks that list and nothing else:
// no allocation, no name lookup, no dispatch on op kinds.
//
//   Plan plan = compile(build_model("mlp"), {.optimizer = OptimizerOptions{}});
//   std::copy(batch_x.begin(), batch_x.end(), plan.input_buffer("x"));
//   std::copy(batch_y.begin(), batch_y.end(), plan.labels_buffer("y"));
//   double loss = plan.step();
//
// Fed values (input and labels slots) are kept for the whole step and
// between steps: a fed batch stays until it is fed again, and a pointer from
// input_buffer() stays valid (and keeps its contents) for the plan's life.
class Plan {
 public:
  // Builds the plan for `graph` run in `order` with `memory` (as made by
  // passes/schedule.hpp and passes/memory_plan.hpp for that graph; checked
  // with verify_schedule and verify_memory_plan). Params come from `params`
  // when given (shared with other plans; params it already holds keep their
  // values and must have the graph's shape and dtype), else from a new store;
  // the missing ones are initialised with `seed`. Throws kiln::Error naming
  // the node for an invalid plan, a param of another type in a shared store,
  // or a node that would overwrite a param with a kernel that cannot run in
  // place.
  // `communicator` is what the graph's allreduce nodes reduce over (null:
  // they act as on one rank) and what step() averages the loss over.
  Plan(Graph graph, std::vector<NodeId> order, MemoryPlan memory, std::vector<PassStats> stats,
       std::shared_ptr<ParamStore> params = nullptr, std::uint64_t seed = 0,
       std::shared_ptr<Communicator> communicator = nullptr);
  Plan(Plan&&) noexcept;
  Plan& operator=(Plan&&) noexcept;
  ~Plan();

  // Copies `value` into leaf `name`: an input or labels slot of the arena, a
  // param (in the store) or a constant (overriding its attribute for every
  // later step). Checked as the Executor checks: throws kiln::Error naming
  // the node, the expected and the found shape/dtype, or the labels row with
  // an out-of-range class id. An input the plan never reads is checked and
  // ignored.
  void feed(std::string_view name, const Tensor& value);

  // Zero-copy feeding: the arena slot of input `name` (T = float for f32,
  // double for f64) or of labels `name`, to be written before step(). Counts
  // as fed. Throws kiln::Error naming the node when it is no input (labels),
  // has another dtype, or is not read by this plan.
  template <class T = float>
  T* input_buffer(std::string_view name) {
    return static_cast<T*>(fed_slot(name, dtype_of<T>()));
  }
  std::int32_t* labels_buffer(std::string_view name) {
    return static_cast<std::int32_t*>(fed_slot(name, DType::i32));
  }

  // Runs the step: every kernel call in schedule order, updates last among
  // their readers and after the loss. Throws kiln::Error (before running
  // anything) naming every input or labels node never fed, or the labels row
  // whose class id is out of range; NonFiniteLoss (before any update) when
  // the loss is NaN or infinite; and with check_numerics on, kiln::Error at
  // the first node whose output holds a NaN or an infinity.
  void run();
  // run() and return the loss, computed before the updates (with a
  // communicator of N > 1 ranks: the mean of the ranks' losses). Throws
  // kiln::Error when the graph has no loss.
  double step();
  // feed() each pair, then step().
  double step(const std::vector<std::pair<std::string, Tensor>>& feeds);

  // The value of node `name` after the last step: a param or constant, an
  // update (the param's new value), or an arena node whose buffer is intact
  // at the end of the step (the loss, the fed inputs, gradients that no
  // update consumes, compile.outputs). Throws kiln::Error naming the node
  // when the plan does not compute it, or when its buffer was reused later
  // in the step (saying by which node and at which step).
  TensorView value(std::string_view name) const;
  TensorView value(NodeId id) const;
  // The gradient of the loss with respect to `of` (a param by default), as
  // value() reads it. Throws kiln::Error when the graph has none for it.
  TensorView gradient(std::string_view of) const;
  // The loss of the last step; throws kiln::Error when the graph has none.
  double loss() const;

  ParamStore& params();
  const ParamStore& params() const;
  const Tensor& param(std::string_view name) const { return params().get(name); }
  // The store itself, to compile another plan (e.g. evaluation at another
  // batch size) over the same params.
  std::shared_ptr<ParamStore> shared_params() const;

  const Graph& graph() const;
  const std::vector<NodeId>& order() const;
  const MemoryPlan& memory() const;
  const std::vector<PassStats>& stats() const;
  // The activation arena (memory().arena_bytes long, 64-byte aligned).
  std::span<const std::byte> arena() const;
  // Kernel calls one step makes: one per scheduled node that runs a kernel.
  std::size_t kernel_calls() const;
  // What the plan allocated, as plan_memory_needs() counted it.
  PlanMemory memory_needs() const;
  // PlanOptions::check_numerics and stop_on_non_finite_loss, switchable
  // between steps.
  void set_check_numerics(bool on);
  bool check_numerics() const;
  void set_stop_on_non_finite_loss(bool on);
  // How many times run() has started.
  std::size_t steps_run() const;
  // PlanOptions::communicator (null when none was given).
  const std::shared_ptr<Communicator>& communicator() const;

 private:
  void* fed_slot(std::string_view name, DType dtype);

  struct State;
  std::unique_ptr<State> s_;
};

// Compiles `g` into a Plan: run_pipeline with every pass it needs (verify,
// fuse, autodiff, fuse, simplify, the optimizer update when
// options.optimizer is set, allreduce with a communicator of several ranks,
// fuse_update, schedule and memory plan; each checked by its verifier when
// compile.verify_each_pass or KILN_VERIFY_EVERY_PASS asks), then binds every
// kernel. stats() has one entry per pass that ran, including
// "optimizer_update", "schedule" and "memory_plan". With `params`, the plan
// shares that store (see Plan's constructor). Throws kiln::Error from any
// pass, for an unknown name in compile.outputs, for an optimizer on a
// graph compiled without differentiation, or, before allocating anything,
// when the plan needs more than options.max_memory_bytes (saying what it
// needs, arena, params, optimizer state and constants, and the limit).
Plan compile(const Graph& g, const PlanOptions& options = {});
Plan compile(const Graph& g, const PlanOptions& options, std::shared_ptr<ParamStore> params);

}  // namespace kiln
