#include "runtime/executor.hpp"

#include <algorithm>
#include <cstring>

#include "graph/verify.hpp"
#include "runtime/feed.hpp"
#include "runtime/kernels.hpp"

namespace kiln {

Executor::Executor(const Graph& g, std::uint64_t seed) : graph_(g) {
  verify(graph_);
  order_ = graph_.topological_order();
  // Optimizer updates overwrite params that other nodes read, so they run
  // after everything else (nothing but another update reads an update).
  std::stable_partition(order_.begin(), order_.end(),
                        [&](NodeId id) { return graph_[id].info().category != Category::update; });
  params_.initialise(graph_, seed);
  buffers_.reserve(graph_.size());
  for (NodeId id : graph_.ids()) {
    const Node& n = graph_[id];
    bool has_own_storage = n.op != OpKind::param && n.info().category != Category::update;
    buffers_.push_back(has_own_storage ? Tensor(n.shape, n.dtype) : Tensor());
  }
  fed_.assign(graph_.size(), false);
  constant_fed_.assign(graph_.size(), false);
}

Tensor& Executor::buffer(NodeId id) {
  // An optimizer update's output is its operand 0, overwritten in place.
  while (graph_[id].info().category == Category::update) id = graph_.inputs(id)[0];
  const Node& n = graph_[id];
  return n.op == OpKind::param ? params_.get(n.name) : buffers_[id];
}

const Tensor& Executor::value(NodeId id) const {
  if (id >= graph_.size())
    throw Error("no node with id " + std::to_string(id) + " (the graph has " + std::to_string(graph_.size()) +
                " nodes)");
  return const_cast<Executor*>(this)->buffer(id);
}

const Tensor& Executor::value(std::string_view name) const { return value(graph_.at(name)); }

void Executor::feed(std::string_view name, const Tensor& value) {
  NodeId id = graph_.at(name);
  check_feed(graph_, id, value);
  Tensor& dst = buffer(id);
  std::memcpy(dst.raw(), value.raw(), dst.bytes());
  fed_[id] = true;
  if (graph_[id].op == OpKind::constant) constant_fed_[id] = true;
}

void Executor::run() {
  std::string missing;
  for (NodeId id : order_) {
    OpKind op = graph_[id].op;
    if ((op == OpKind::input || op == OpKind::labels) && !fed_[id])
      missing += (missing.empty() ? "" : ", ") + describe(graph_, id);
  }
  if (!missing.empty()) throw Error("run() needs a value for every input; not fed: " + missing);

  // Bound afresh on every run: the reference executor trades a few
  // microseconds for never holding a stale pointer.
  std::vector<BoundKernel> calls;
  std::vector<TensorRef> operands, extra_outputs;
  std::vector<Tensor> unread;  // outputs no get_output reads: computed all the same
  for (NodeId id : order_) {
    const Node& n = graph_[id];
    if (n.op == OpKind::constant && constant_fed_[id]) continue;
    operands.clear();
    for (NodeId in : graph_.inputs(id)) operands.push_back(buffer(in).ref());
    extra_outputs.clear();
    unread.clear();
    unread.reserve(n.extra_outputs.size());
    for (std::size_t k = 1; k <= n.extra_outputs.size(); ++k) {
      if (std::optional<NodeId> p = graph_.projection(id, static_cast<int>(k))) {
        extra_outputs.push_back(buffer(*p).ref());
      } else {
        const TensorType& t = n.extra_outputs[k - 1];
        extra_outputs.push_back(unread.emplace_back(t.shape, t.dtype).ref());
      }
    }
    calls.clear();
    try {
      bind_kernel(n.op, operands, buffer(id).ref(), n.attrs, calls, extra_outputs);
    } catch (const Error& e) {
      throw Error(describe(graph_, id) + ": " + e.what());
    }
    for (const BoundKernel& k : calls) k.run();
  }
}

double Executor::step(const std::vector<std::pair<std::string, Tensor>>& feeds) {
  std::optional<NodeId> loss = graph_.loss();
  if (!loss) throw Error("step() returns the loss, but the graph has none (set one, or call run())");
  for (const auto& [name, value] : feeds) feed(name, value);
  run();
  return value(*loss).get(0);
}

}  // namespace kiln
