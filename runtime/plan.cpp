#include "runtime/plan.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#include "graph/error.hpp"
#include "passes/in_place.hpp"
#include "passes/liveness.hpp"
#include "runtime/feed.hpp"
#include "runtime/kernel_scratch.hpp"
#include "runtime/kernels.hpp"

namespace kiln {
namespace {

struct FreeBytes {
  void operator()(std::byte* p) const { std::free(p); }
};
using Arena = std::unique_ptr<std::byte, FreeBytes>;

// Zeroed, so that a value read before any step is 0 rather than garbage.
Arena allocate_arena(std::size_t bytes) {
  std::size_t rounded = align_up(bytes == 0 ? 1 : bytes);
  void* p = std::aligned_alloc(kArenaAlignment, rounded);
  if (!p) throw Error("cannot allocate an activation arena of " + std::to_string(rounded) + " bytes");
  std::memset(p, 0, rounded);
  return Arena(static_cast<std::byte*>(p));
}

// An input or labels slot: written by feed() or through input_buffer().
struct FedSlot {
  NodeId node = 0;
  bool fed = false;
};

// Labels written straight into the arena bypass feed()'s check, and a class
// id out of range would make the loss kernels index outside a row.
struct LabelsSlot {
  NodeId node = 0;
  const std::int32_t* ids = nullptr;
  std::size_t rows = 0;
  std::int32_t classes = 0;
};

// The kernel calls of one scheduled node: calls[begin, end). When an operand
// shares the node's buffer (in place, or an update overwriting its param),
// its range is taken before the calls run, for the numerics report.
struct NodeCalls {
  NodeId node = 0;
  std::size_t begin = 0, end = 0;
  int aliased_operand = -1;
};

// What the numerics check says about a value; filled without allocating.
struct Range {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::size_t nan = 0, inf = 0, numel = 0;
  std::size_t first_bad = SIZE_MAX;  // element index
  bool taken = false;
};

template <class T>
void scan(const T* p, std::size_t n, Range& r) {
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(p[i]);
    if (std::isnan(v)) {
      ++r.nan;
    } else {
      if (std::isinf(v)) ++r.inf;
      r.min = std::min(r.min, v);
      r.max = std::max(r.max, v);
    }
    if (!std::isfinite(v) && r.first_bad == SIZE_MAX) r.first_bad = i;
  }
}

Range range_of(const void* data, const Shape& shape, DType dtype) {
  Range r;
  r.taken = true;
  r.numel = static_cast<std::size_t>(shape.numel());
  switch (dtype) {
    case DType::f32: scan(static_cast<const float*>(data), r.numel, r); break;
    case DType::f64: scan(static_cast<const double*>(data), r.numel, r); break;
    case DType::i32: scan(static_cast<const std::int32_t*>(data), r.numel, r); break;
  }
  return r;
}

// Only the first non-finite element matters to the check, so stop there.
template <class T>
bool all_finite(const T* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

bool all_finite(const void* data, const Shape& shape, DType dtype) {
  const auto n = static_cast<std::size_t>(shape.numel());
  switch (dtype) {
    case DType::f32: return all_finite(static_cast<const float*>(data), n);
    case DType::f64: return all_finite(static_cast<const double*>(data), n);
    case DType::i32: return true;
  }
  return true;
}

std::string describe_range(const Range& r) {
  std::ostringstream out;
  out.precision(6);
  if (r.nan == r.numel) out << "all NaN";
  else out << "in [" << r.min << ", " << r.max << "]";
  if (r.nan && r.nan != r.numel) out << ", " << r.nan << " NaN";
  if (r.inf) out << ", " << r.inf << " infinite";
  return out.str();
}

double element(const void* data, DType dtype, std::size_t i) {
  switch (dtype) {
    case DType::f32: return static_cast<const float*>(data)[i];
    case DType::f64: return static_cast<const double*>(data)[i];
    case DType::i32: return static_cast<const std::int32_t*>(data)[i];
  }
  return 0;
}

}  // namespace

double TensorView::get(std::size_t i) const {
  if (i >= numel())
    throw Error("element " + std::to_string(i) + " is outside a " + type_str(*shape, dtype) + " value");
  return element(data, dtype, i);
}

std::vector<double> TensorView::values() const {
  std::vector<double> out(numel());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = element(data, dtype, i);
  return out;
}

Tensor TensorView::to_tensor() const {
  Tensor t(*shape, dtype);
  std::memcpy(t.raw(), data, bytes());
  return t;
}

struct Plan::State {
  Graph graph;
  std::vector<NodeId> order;
  MemoryPlan memory;
  std::vector<PassStats> stats;
  std::shared_ptr<ParamStore> params;
  Arena arena;
  std::vector<Tensor> constants;
  std::vector<void*> storage;                  // by NodeId; nullptr: the plan holds no value for it
  std::vector<int> step;                       // by NodeId; -1: not scheduled
  std::vector<std::optional<NodeId>> reused_by;  // by NodeId: the node that overwrites its buffer in place
  std::vector<BoundKernel> calls;
  std::vector<FedSlot> fed;
  std::vector<std::size_t> fed_index;          // by NodeId, into `fed`
  std::vector<LabelsSlot> labels;
  void* loss = nullptr;  // written by the loss kernel, and averaged over the ranks
  DType loss_dtype = DType::f32;
  // Numerics: the calls grouped by node, and where the loss's calls end (the
  // step checks the loss there, before any update has run).
  std::vector<NodeCalls> node_calls;
  std::size_t loss_calls_end = 0;     // into calls
  std::size_t loss_node_calls_end = 0;  // into node_calls
  bool check_numerics = false;
  bool stop_on_non_finite_loss = true;
  std::size_t steps_run = 0;
  std::shared_ptr<Communicator> comm;
  // One per allreduce_start, shared with its allreduce_wait; a fixed array,
  // so the calls' pointers into it stay valid.
  std::unique_ptr<CollectiveSlot[]> collectives;

  void init_params(std::uint64_t seed);
  void init_constants();
  void resolve_storage();
  void bind_calls();
  void link_collectives();
  // Averages the loss just computed over the ranks (a no-op on one rank).
  void reduce_loss();
  void collect_fed();
  void locate_loss();
  // Runs node_calls[first, last) checking each output; stops at the first
  // non-finite one and returns its index (SIZE_MAX when all were finite).
  std::size_t run_checked(std::size_t first, std::size_t last, Range& aliased_before) const;
  // "step N: node ... produced a non-finite value ...; its inputs: ...";
  // step_number 0 leaves the step out.
  std::string non_finite_message(const NodeCalls& nc, const Range& aliased_before, std::size_t step_number) const;
  [[noreturn]] void throw_non_finite_loss(std::size_t step_number) const;
  [[noreturn]] void throw_not_fed() const;
  [[noreturn]] void throw_bad_label(const LabelsSlot& slot, std::size_t row) const;
  NodeId lookup(std::string_view name) const;
};

// A shared store keeps the values it holds (e.g. trained params); only the
// params it lacks are initialised, exactly as ParamStore::initialise would.
void Plan::State::init_params(std::uint64_t seed) {
  for (NodeId id : graph.ids()) {
    const Node& n = graph[id];
    if (n.op != OpKind::param) continue;
    if (params->contains(n.name)) {
      const Tensor& held = params->get(n.name);
      if (held.shape() != n.shape || held.dtype() != n.dtype)
        throw Error(describe(graph, id) + ": the shared parameter store holds it as " + held.type_str() +
                    ", the graph needs " + type_str(n.shape, n.dtype));
      continue;
    }
    Tensor value = initial_value(n, seed);
    Tensor& slot = params->add(n.name, n.shape, n.dtype);
    std::memcpy(slot.raw(), value.raw(), slot.bytes());
  }
}

// Constants are persistent: written once here (and by feed()), never per step.
void Plan::State::init_constants() {
  std::vector<BoundKernel> once;
  constants.reserve(graph.size());
  for (NodeId id : graph.ids()) {
    const Node& n = graph[id];
    if (n.op != OpKind::constant) continue;
    Tensor& t = constants.emplace_back(n.shape, n.dtype);
    once.clear();
    bind_kernel(n.op, {}, t.ref(), n.attrs, once);
    for (const BoundKernel& k : once) k.run();
  }
}

void Plan::State::resolve_storage() {
  const std::size_t n = graph.size();
  storage.assign(n, nullptr);
  step.assign(n, -1);
  reused_by.assign(n, std::nullopt);
  std::size_t next_constant = 0;
  for (NodeId id : graph.ids()) {
    const Node& node = graph[id];
    if (node.op == OpKind::param) storage[id] = params->get(node.name).raw();
    if (node.op == OpKind::constant) storage[id] = constants[next_constant++].raw();
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    NodeId id = order[i];
    step[id] = static_cast<int>(i);
    const Node& node = graph[id];
    if (node.info().is_leaf() && !is_fed(graph, id)) continue;
    if (std::optional<NodeId> target = overwritten_persistent(graph, id)) {
      // The optimizer ops are written to overwrite operand 0; an ordinary op
      // tagged as an update may do so only if its kernel runs in place.
      if (node.info().category != Category::update && !op_may_overwrite_operand(node.op, 0))
        throw Error(describe(graph, id) + ": writes the new value of " + describe(graph, *target) +
                    " in place, but its kernel cannot overwrite its operand 0");
      storage[id] = storage[*target];
      continue;
    }
    auto at = memory.index.find(id);
    if (at == memory.index.end())
      throw Error(describe(graph, id) + ": scheduled, but the memory plan gives it no buffer");
    storage[id] = arena.get() + memory.buffers[at->second].offset;
  }
  for (const BufferPlan& b : memory.buffers)
    if (b.reuses) reused_by[*b.reuses] = b.node;
}

void Plan::State::bind_calls() {
  std::vector<TensorRef> operands, extra_outputs;
  for (NodeId id : order) {
    const Node& node = graph[id];
    if (node.info().is_leaf()) continue;
    // Its buffer was written by the call of the node it reads; the empty
    // entry lets the numerics check look at that buffer here.
    if (node.op == OpKind::get_output) {
      node_calls.push_back({id, calls.size(), calls.size(), -1});
      continue;
    }
    extra_outputs.clear();
    for (std::size_t k = 1; k <= node.extra_outputs.size(); ++k) {
      std::optional<NodeId> p = graph.projection(id, static_cast<int>(k));
      const TensorType& t = node.extra_outputs[k - 1];
      extra_outputs.push_back({p && step[*p] >= 0 ? storage[*p] : nullptr, &t.shape, t.dtype});
    }
    operands.clear();
    for (NodeId in : graph.inputs(id)) {
      if (!storage[in])
        throw Error(describe(graph, id) + ": reads " + describe(graph, in) + ", which the plan does not compute");
      operands.push_back({storage[in], &graph[in].shape, graph[in].dtype});
    }
    NodeCalls nc{id, calls.size(), 0, -1};
    for (std::size_t i = 0; i < operands.size(); ++i)
      if (operands[i].data == storage[id]) nc.aliased_operand = static_cast<int>(i);
    std::span<std::byte> scratch;
    if (const ScratchPlan* planned = memory.scratch_of(id)) scratch = {arena.get() + planned->offset, planned->bytes};
    try {
      bind_kernel(node.op, operands, {storage[id], &node.shape, node.dtype}, node.attrs, calls, extra_outputs,
                  scratch);
    } catch (const Error& e) {
      throw Error(describe(graph, id) + ": " + e.what());
    }
    nc.end = calls.size();
    node_calls.push_back(nc);
  }
}

// Each allreduce_start gets a slot; its allreduce_wait reads the same one.
void Plan::State::link_collectives() {
  std::size_t starts = 0;
  for (NodeId id : order) starts += graph[id].op == OpKind::allreduce_start;
  if (starts == 0) return;
  collectives = std::make_unique<CollectiveSlot[]>(starts);
  std::vector<CollectiveSlot*> slot_of(graph.size(), nullptr);
  std::size_t next = 0;
  for (const NodeCalls& nc : node_calls) {
    const Node& node = graph[nc.node];
    CollectiveSlot* slot = nullptr;
    if (node.op == OpKind::allreduce_start) {
      slot = slot_of[nc.node] = &collectives[next++];
      slot->comm = comm.get();
    } else if (node.op == OpKind::allreduce_wait) {
      NodeId start = graph.inputs(nc.node)[0];
      if (graph[start].op != OpKind::allreduce_start)
        throw Error(describe(graph, nc.node) + ": waits for " + describe(graph, start) +
                    ", expected an allreduce_start");
      slot = slot_of[start];
    }
    for (std::size_t c = nc.begin; c < nc.end; ++c) calls[c].call.collective = slot;
  }
}

// Right after the loss kernel, before the check and before any reduction of
// a gradient starts: every rank then sees the same loss, so a non-finite one
// stops every rank at the same step with nothing in flight. A node reading
// the loss after this (none in a training graph: the gradients start from a
// constant seed) sees the mean.
void Plan::State::reduce_loss() {
  if (!comm || comm->size() == 1 || !loss) return;
  comm->allreduce_sum(loss, 1, loss_dtype);
  const double mean = 1.0 / comm->size();
  if (loss_dtype == DType::f64) *static_cast<double*>(loss) *= mean;
  else *static_cast<float*>(loss) *= static_cast<float>(mean);
}

// step() checks the loss between two runs of the call list; that guards the
// params only if no update overwrites one before the loss is computed, which
// the schedule promises (verify_schedule) and this re-checks for plans built
// from any order.
void Plan::State::locate_loss() {
  std::optional<NodeId> l = graph.loss();
  if (!l || step[*l] < 0) return;
  for (std::size_t i = 0; i < node_calls.size(); ++i) {
    if (node_calls[i].node != *l) continue;
    loss_calls_end = node_calls[i].end;
    loss_node_calls_end = i + 1;
  }
  for (std::size_t i = 0; i < loss_node_calls_end; ++i)
    if (NodeId v = node_calls[i].node; overwritten_persistent(graph, v))
      throw Error(describe(graph, v) + ": overwrites " + describe(graph, *overwritten_persistent(graph, v)) +
                  " at step " + std::to_string(step[v]) + ", before the loss " + describe(graph, *l) + " at step " +
                  std::to_string(step[*l]) + "; a non-finite loss could no longer stop the update");
}

std::size_t Plan::State::run_checked(std::size_t first, std::size_t last, Range& aliased_before) const {
  for (std::size_t i = first; i < last; ++i) {
    const NodeCalls& nc = node_calls[i];
    const Node& n = graph[nc.node];
    if (nc.aliased_operand >= 0) {
      NodeId in = graph.inputs(nc.node)[static_cast<std::size_t>(nc.aliased_operand)];
      aliased_before = range_of(storage[in], graph[in].shape, graph[in].dtype);
    }
    for (std::size_t c = nc.begin; c < nc.end; ++c) calls[c].kernel(calls[c].call);
    if (!all_finite(storage[nc.node], n.shape, n.dtype)) return i;
  }
  return SIZE_MAX;
}

std::string Plan::State::non_finite_message(const NodeCalls& nc, const Range& aliased_before,
                                            std::size_t step_number) const {
  const Node& n = graph[nc.node];
  Range out = range_of(storage[nc.node], n.shape, n.dtype);
  std::ostringstream msg;
  msg.precision(6);
  if (step_number) msg << "step " << step_number << ": ";
  msg << describe(graph, nc.node) << " at schedule position " << step[nc.node]
      << " produced a non-finite value (element " << out.first_bad << " is "
      << element(storage[nc.node], n.dtype, out.first_bad) << "; " << out.nan + out.inf << " of " << out.numel
      << " elements are NaN or infinite); its inputs: ";
  const std::vector<NodeId>& inputs = graph.inputs(nc.node);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    NodeId in = inputs[i];
    const Range r = static_cast<int>(i) == nc.aliased_operand ? aliased_before
                                                                : range_of(storage[in], graph[in].shape, graph[in].dtype);
    msg << (i ? "; " : "") << "'" << graph[in].name << "' " << type_str(graph[in].shape, graph[in].dtype) << " "
        << describe_range(r);
  }
  if (inputs.empty()) msg << "none";
  return msg.str();
}

void Plan::State::throw_non_finite_loss(std::size_t step_number) const {
  const NodeId l = *graph.loss();
  const std::string head = "step " + std::to_string(step_number) + ": the loss " + describe(graph, l) + " is " +
                           std::to_string(element(loss, loss_dtype, 0)) +
                           "; training stopped before any update, so the params keep their values from before "
                           "this step. ";
  // The forward calls read only fed slots, params and constants (all
  // unchanged) and what they compute themselves, so running them again gives
  // the same values, this time checked node by node.
  Range before;
  if (std::size_t bad = run_checked(0, loss_node_calls_end, before); bad != SIZE_MAX)
    throw NonFiniteLoss(head + "The first non-finite value: " + non_finite_message(node_calls[bad], before, 0),
                        step_number, graph[node_calls[bad].node].name);
  throw NonFiniteLoss(head + "Re-run with the numerics check, no node before it produced a non-finite value",
                      step_number, "");
}

void Plan::State::collect_fed() {
  fed_index.assign(graph.size(), SIZE_MAX);
  for (NodeId id : order) {
    if (!is_fed(graph, id)) continue;
    fed_index[id] = fed.size();
    fed.push_back({id, false});
    const Node& n = graph[id];
    if (n.op == OpKind::labels)
      labels.push_back({id, static_cast<const std::int32_t*>(storage[id]), static_cast<std::size_t>(n.shape.numel()),
                        static_cast<std::int32_t>(n.attrs.classes)});
  }
  if (std::optional<NodeId> l = graph.loss(); l && step[*l] >= 0) {
    loss = storage[*l];
    loss_dtype = graph[*l].dtype;
  }
}

void Plan::State::throw_not_fed() const {
  std::string missing;
  for (const FedSlot& f : fed)
    if (!f.fed) missing += (missing.empty() ? "" : ", ") + describe(graph, f.node);
  throw Error("step() needs a value for every input; not fed: " + missing);
}

void Plan::State::throw_bad_label(const LabelsSlot& slot, std::size_t row) const {
  throw Error(describe(graph, slot.node) + ": row " + std::to_string(row) + " has class id " +
              std::to_string(slot.ids[row]) + ", expected one in [0, " + std::to_string(slot.classes) + ")");
}

NodeId Plan::State::lookup(std::string_view name) const {
  if (std::optional<NodeId> id = graph.find(name)) return *id;
  throw Error("no node named '" + std::string(name) +
              "' in the compiled graph (fusion or simplification may have replaced it; list it in "
              "CompileOptions::outputs to keep it)");
}

Plan::Plan(Graph graph, std::vector<NodeId> order, MemoryPlan memory, std::vector<PassStats> stats,
           std::shared_ptr<ParamStore> params, std::uint64_t seed, std::shared_ptr<Communicator> communicator)
    : s_(std::make_unique<State>()) {
  State& s = *s_;
  s.comm = std::move(communicator);
  s.graph = std::move(graph);
  s.order = std::move(order);
  s.memory = std::move(memory);
  s.stats = std::move(stats);
  s.params = params ? std::move(params) : std::make_shared<ParamStore>();
  // A wrong offset here would corrupt memory silently, so the plan is always
  // checked against the graph and the order, however it was made.
  verify_memory_plan(s.graph, s.order, s.memory, node_scratch_bytes);
  s.init_params(seed);
  s.init_constants();
  s.arena = allocate_arena(s.memory.arena_bytes);
  s.resolve_storage();
  s.bind_calls();
  s.link_collectives();
  s.collect_fed();
  s.locate_loss();
}

Plan::Plan(Plan&&) noexcept = default;
Plan& Plan::operator=(Plan&&) noexcept = default;
Plan::~Plan() = default;

void Plan::feed(std::string_view name, const Tensor& value) {
  State& s = *s_;
  NodeId id = s.lookup(name);
  check_feed(s.graph, id, value);
  const Node& n = s.graph[id];
  if (n.op == OpKind::param) {
    s.params->set(n.name, value);
    return;
  }
  if (!s.storage[id]) return;  // an input this plan never reads
  std::memcpy(s.storage[id], value.raw(), value.bytes());
  if (is_fed(s.graph, id)) s.fed[s.fed_index[id]].fed = true;
}

void* Plan::fed_slot(std::string_view name, DType dtype) {
  State& s = *s_;
  NodeId id = s.lookup(name);
  const Node& n = s.graph[id];
  const OpKind wanted = dtype == DType::i32 ? OpKind::labels : OpKind::input;
  if (n.op != wanted)
    throw Error(describe(s.graph, id) + ": " + (wanted == OpKind::labels ? "labels_buffer" : "input_buffer") +
                " needs " + (wanted == OpKind::labels ? "a labels node" : "an input node"));
  if (n.dtype != dtype)
    throw Error(describe(s.graph, id) + ": is " + type_str(n.shape, n.dtype) + ", asked for a buffer of " +
                std::string(dtype_name(dtype)));
  if (s.fed_index[id] == SIZE_MAX)
    throw Error(describe(s.graph, id) + ": the plan never reads it, so it has no arena slot");
  s.fed[s.fed_index[id]].fed = true;
  return s.storage[id];
}

// The hot loop. Everything it touches was resolved at construction; the
// checks before it read a few flags and the labels, and allocate only to
// report an error.
void Plan::run() {
  State& s = *s_;
  for (const FedSlot& f : s.fed)
    if (!f.fed) s.throw_not_fed();
  for (const LabelsSlot& l : s.labels)
    for (std::size_t r = 0; r < l.rows; ++r)
      if (l.ids[r] < 0 || l.ids[r] >= l.classes) s.throw_bad_label(l, r);
  const std::size_t step_number = ++s.steps_run;
  if (s.check_numerics) {
    Range before;
    std::size_t bad = s.run_checked(0, s.loss_node_calls_end, before);
    if (bad == SIZE_MAX) {
      s.reduce_loss();
      bad = s.run_checked(s.loss_node_calls_end, s.node_calls.size(), before);
    }
    if (bad != SIZE_MAX) throw Error(s.non_finite_message(s.node_calls[bad], before, step_number));
    return;
  }
  const BoundKernel* k = s.calls.data();
  const BoundKernel* const loss_end = k + s.loss_calls_end;
  const BoundKernel* const end = k + s.calls.size();
  for (; k != loss_end; ++k) k->kernel(k->call);
  s.reduce_loss();
  if (s.loss && !std::isfinite(element(s.loss, s.loss_dtype, 0)) && s.stop_on_non_finite_loss)
    s.throw_non_finite_loss(step_number);
  for (; k != end; ++k) k->kernel(k->call);
}

double Plan::step() {
  if (!s_->loss) throw Error("step() returns the loss, but the compiled graph has none (set one, or call run())");
  run();
  return element(s_->loss, s_->loss_dtype, 0);
}

double Plan::step(const std::vector<std::pair<std::string, Tensor>>& feeds) {
  for (const auto& [name, value] : feeds) feed(name, value);
  return step();
}

double Plan::loss() const {
  if (!s_->loss) throw Error("the compiled graph has no loss");
  return element(s_->loss, s_->loss_dtype, 0);
}

TensorView Plan::value(NodeId id) const {
  const State& s = *s_;
  const Graph& g = s.graph;
  if (id >= g.size())
    throw Error("no node with id " + std::to_string(id) + " (the compiled graph has " + std::to_string(g.size()) +
                " nodes)");
  const Node& n = g[id];
  TensorView view{s.storage[id], &n.shape, n.dtype};
  if (n.op == OpKind::param || n.op == OpKind::constant || (s.step[id] >= 0 && is_persistent(g, id))) return view;
  if (s.step[id] < 0)
    throw Error(describe(g, id) + ": not computed by this plan (neither the loss, a gradient, an update nor an "
                "output needs it; list it in CompileOptions::outputs)");
  const BufferPlan& b = s.memory.buffer(id);
  const std::string where = "its buffer (offset " + std::to_string(b.offset) + ", " + std::to_string(b.bytes) + " B)";
  if (s.reused_by[id]) {
    NodeId by = *s.reused_by[id];
    throw Error(describe(g, id) + ": " + where + " is overwritten in place by " + describe(g, by) + " at step " +
                std::to_string(s.step[by]) + "; list it in CompileOptions::outputs to keep it");
  }
  const int end = static_cast<int>(s.order.size()) - 1;
  if (b.last < end)
    throw Error(describe(g, id) + ": " + where + " is free for reuse after step " + std::to_string(b.last) + " (" +
                describe(g, s.order[static_cast<std::size_t>(b.last)]) +
                "); list it in CompileOptions::outputs to keep it");
  return view;
}

TensorView Plan::value(std::string_view name) const { return value(s_->lookup(name)); }

TensorView Plan::gradient(std::string_view of) const {
  NodeId id = s_->lookup(of);
  std::optional<NodeId> grad = s_->graph.gradient_of(id);
  if (!grad) {
    // Update fusion (passes/fuse_update.hpp) computes a weight gradient
    // inside the param's update and drops it from the graph's gradients.
    for (NodeId u : s_->graph.consumers(id))
      if (s_->graph[u].op == OpKind::sgd_matmul_update && s_->graph.inputs(u)[0] == id)
        throw Error(describe(s_->graph, id) + ": the compiled graph has no gradient for it" + "; " +
                    describe(s_->graph, u) + " folds it into the update" + " (grad/" +
                    s_->graph[id].name + ")" + "; list it in CompileOptions::outputs to keep it");
    throw Error(describe(s_->graph, id) + ": the compiled graph has no gradient for it");
  }
  return value(*grad);
}

ParamStore& Plan::params() { return *s_->params; }
const ParamStore& Plan::params() const { return *s_->params; }
std::shared_ptr<ParamStore> Plan::shared_params() const { return s_->params; }
const Graph& Plan::graph() const { return s_->graph; }
const std::vector<NodeId>& Plan::order() const { return s_->order; }
const MemoryPlan& Plan::memory() const { return s_->memory; }
const std::vector<PassStats>& Plan::stats() const { return s_->stats; }
std::span<const std::byte> Plan::arena() const { return {s_->arena.get(), s_->memory.arena_bytes}; }
std::size_t Plan::kernel_calls() const { return s_->calls.size(); }
PlanMemory Plan::memory_needs() const { return plan_memory_needs(s_->graph, s_->memory); }
void Plan::set_check_numerics(bool on) { s_->check_numerics = on; }
bool Plan::check_numerics() const { return s_->check_numerics; }
void Plan::set_stop_on_non_finite_loss(bool on) { s_->stop_on_non_finite_loss = on; }
std::size_t Plan::steps_run() const { return s_->steps_run; }
const std::shared_ptr<Communicator>& Plan::communicator() const { return s_->comm; }

}  // namespace kiln
