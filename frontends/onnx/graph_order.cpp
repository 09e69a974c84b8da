// Kahn's algorithm over ONNX value names: a node is ready once every value it
// reads is defined.
#include "frontends/onnx/graph_order.hpp"

#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "graph/error.hpp"

namespace kiln::onnx {

void order_nodes(Model& model) {
  const auto fail = [&](const std::string& message) { throw Error(model.source + ": " + message); };
  std::unordered_set<std::string> given;  // inputs and initializers
  for (const ValueInfo& v : model.inputs)
    if (!given.insert(v.name).second) fail("graph input '" + v.name + "' is listed twice");
  for (const TensorValue& t : model.initializers) given.insert(t.name);

  std::unordered_map<std::string, std::size_t> producer;
  for (std::size_t i = 0; i < model.nodes.size(); ++i)
    for (const std::string& out : model.nodes[i].outputs) {
      if (out.empty()) continue;
      if (given.count(out) || !producer.emplace(out, i).second)
        fail(describe_node(model.nodes[i]) + " defines '" + out + "', which is already defined");
    }

  std::vector<std::size_t> waiting(model.nodes.size(), 0);
  std::unordered_map<std::string, std::vector<std::size_t>> readers;
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    std::unordered_set<std::string> seen;  // a node reading a value twice waits for it once
    for (const std::string& in : model.nodes[i].inputs) {
      if (in.empty() || given.count(in) || !seen.insert(in).second) continue;
      if (!producer.count(in))
        fail(describe_node(model.nodes[i]) + " reads '" + in + "', which no node, initializer or input defines");
      ++waiting[i];
      readers[in].push_back(i);
    }
  }

  std::deque<std::size_t> ready;
  for (std::size_t i = 0; i < model.nodes.size(); ++i)
    if (waiting[i] == 0) ready.push_back(i);
  std::vector<NodeProto> ordered;
  ordered.reserve(model.nodes.size());
  std::vector<bool> done(model.nodes.size(), false);
  while (!ready.empty()) {
    const std::size_t i = ready.front();
    ready.pop_front();
    done[i] = true;
    ordered.push_back(model.nodes[i]);
    for (const std::string& out : model.nodes[i].outputs) {
      auto it = readers.find(out);
      if (it == readers.end()) continue;
      for (std::size_t reader : it->second)
        if (--waiting[reader] == 0) ready.push_back(reader);
    }
  }
  for (std::size_t start = 0; start < model.nodes.size(); ++start) {
    if (done[start]) continue;
    // Every node left waits on another node left: walking back through them
    // must revisit one, and that one is on a cycle.
    std::vector<bool> visited(model.nodes.size(), false);
    std::size_t at = start;
    while (!visited[at]) {
      visited[at] = true;
      for (const std::string& in : model.nodes[at].inputs) {
        auto it = producer.find(in);
        if (it != producer.end() && !done[it->second]) {
          at = it->second;
          break;
        }
      }
    }
    fail(describe_node(model.nodes[at]) + " is on a cycle: its inputs depend on its own output");
  }
  model.nodes = std::move(ordered);

  for (const ValueInfo& out : model.outputs)
    if (!given.count(out.name) && !producer.count(out.name))
      fail("graph output '" + out.name + "' is produced by no node");
}

}  // namespace kiln::onnx
