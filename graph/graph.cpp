#include "graph/graph.hpp"

#include <algorithm>
#include <iterator>

#include <boost/graph/topological_sort.hpp>

#include "graph/error.hpp"
#include "graph/shape_rules.hpp"

namespace kiln {

bool is_valid_node_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '/' || c == '.';
  });
}

std::string describe(const Graph& g, NodeId id) {
  const Node& n = g[id];
  return "node '" + n.name + "' (" + std::string(op_name(n.op)) + ")";
}

namespace {

std::string describe_new(const std::string& name, OpKind op) {
  return "node '" + name + "' (" + std::string(op_name(op)) + ")";
}

void check_arity(const std::string& name, OpKind op, std::size_t n) {
  const OpInfo& info = op_info(op);
  if (info.arity == kVariadic) {
    if (n == 0) throw Error(describe_new(name, op) + ": expects at least 1 input, found 0");
  } else if (static_cast<std::size_t>(info.arity) != n) {
    throw Error(describe_new(name, op) + ": expects " + std::to_string(info.arity) + " input" +
                (info.arity == 1 ? "" : "s") + ", found " + std::to_string(n));
  }
}

}  // namespace

NodeId Graph::add(OpKind op, const std::vector<NodeId>& inputs, Attrs attrs, std::string name, Role role) {
  return add_explicit(op, inputs, Shape{}, DType::f32, std::move(attrs), std::move(name), role);
}

NodeId Graph::add_explicit(OpKind op, const std::vector<NodeId>& inputs, Shape shape, DType dtype, Attrs attrs,
                           std::string name, Role role) {
  if (!is_valid_node_name(name))
    throw Error("node name '" + name + "' is invalid: expected non-empty letters, digits, '_', '-', '/', '.'");
  if (by_name_.count(name)) throw Error(describe_new(name, op) + ": the name is already used by another node");
  check_arity(name, op, inputs.size());

  for (NodeId i : inputs)
    if (i >= size()) throw Error(describe_new(name, op) + ": an input refers to a node that does not exist");
  if (std::optional<AttrProblem> bad = check_attrs(op, attrs))
    throw Error(describe_new(name, op) + ": attribute '" + std::string(attr_name(bad->id)) + "': " + bad->message);
  // A multi-output node's kernel writes output k into the buffer of the one
  // get_output node for k.
  if (op == OpKind::get_output && inputs.size() == 1)
    if (std::optional<NodeId> other = projection(inputs[0], attrs.index))
      throw Error(describe_new(name, op) + ": output " + std::to_string(attrs.index) + " of " +
                  describe(*this, inputs[0]) + " is already read by '" + g_[*other].name +
                  "'; expected one get_output per output");
  std::vector<TensorType> in = operand_types(*this, op, inputs);
  TensorType out;
  std::vector<TensorType> extra;
  try {
    out = op_info(op).infer(in, attrs, TensorType{std::move(shape), dtype});
    extra = shape_rules::extra_outputs(op, in, attrs);
  } catch (const Error& e) {
    std::string operands;
    for (std::size_t k = 0; k < inputs.size(); ++k)
      operands += (k ? ", '" : " (inputs '") + g_[inputs[k]].name + "' " + in[k].shape.str() + " " +
                  std::string(dtype_name(in[k].dtype));
    if (!operands.empty()) operands += ")";
    throw Error(describe_new(name, op) + ": " + e.what() + operands);
  }
  Node node{std::move(name), op, std::move(out.shape), out.dtype, std::move(attrs), role, std::move(extra)};
  return insert(std::move(node), inputs);
}

NodeId Graph::insert(Node node, const std::vector<NodeId>& inputs) {
  std::string name = node.name;
  NodeId id = boost::add_vertex(std::move(node), g_);
  for (std::size_t k = 0; k < inputs.size(); ++k) boost::add_edge(inputs[k], id, Edge{static_cast<int>(k)}, g_);
  by_name_.emplace(std::move(name), id);
  return id;
}

std::vector<NodeId> Graph::ids() const {
  std::vector<NodeId> out(size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = i;
  return out;
}

std::vector<NodeId> Graph::inputs(NodeId id) const {
  std::vector<std::pair<int, NodeId>> edges;
  for (auto [it, end] = boost::in_edges(id, g_); it != end; ++it)
    edges.emplace_back(g_[*it].operand, boost::source(*it, g_));
  std::sort(edges.begin(), edges.end());
  std::vector<NodeId> out;
  out.reserve(edges.size());
  for (auto& e : edges) out.push_back(e.second);
  return out;
}

std::vector<NodeId> Graph::consumers(NodeId id) const {
  std::vector<NodeId> out;
  for (auto [it, end] = boost::out_edges(id, g_); it != end; ++it) out.push_back(boost::target(*it, g_));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<TensorType> Graph::output_types(NodeId id) const {
  std::vector<TensorType> out{{g_[id].shape, g_[id].dtype}};
  out.insert(out.end(), g_[id].extra_outputs.begin(), g_[id].extra_outputs.end());
  return out;
}

std::optional<NodeId> Graph::projection(NodeId id, int index) const {
  for (auto [it, end] = boost::out_edges(id, g_); it != end; ++it) {
    NodeId r = boost::target(*it, g_);
    if (g_[r].op == OpKind::get_output && g_[r].attrs.index == index) return r;
  }
  return std::nullopt;
}

std::vector<TensorType> operand_types(const Graph& g, OpKind op, const std::vector<NodeId>& inputs) {
  if (op_info(op).category == Category::projection && inputs.size() == 1) return g.output_types(inputs[0]);
  std::vector<TensorType> in;
  in.reserve(inputs.size());
  for (NodeId i : inputs) in.push_back({g[i].shape, g[i].dtype});
  return in;
}

std::optional<NodeId> Graph::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

NodeId Graph::at(std::string_view name) const {
  if (auto id = find(name)) return *id;
  throw Error("no node named '" + std::string(name) + "'");
}

std::string Graph::unique_name(std::string_view base) const {
  std::string b(base);
  if (!by_name_.count(b)) return b;
  for (std::size_t k = 1;; ++k) {
    std::string candidate = b + "_" + std::to_string(k);
    if (!by_name_.count(candidate)) return candidate;
  }
}

void Graph::set_loss(NodeId id) {
  if (id >= size()) throw Error("loss refers to a node that does not exist");
  if (!g_[id].shape.is_scalar())
    throw Error(describe(*this, id) + ": the loss must be a scalar, found shape " + g_[id].shape.str());
  loss_ = id;
}

void Graph::set_gradient(NodeId of, NodeId grad) {
  if (of >= size() || grad >= size()) throw Error("set_gradient refers to a node that does not exist");
  if (g_[of].shape != g_[grad].shape || g_[of].dtype != g_[grad].dtype)
    throw Error(describe(*this, grad) + ": as the gradient of " + describe(*this, of) + " it must be " +
                g_[of].shape.str() + " " + std::string(dtype_name(g_[of].dtype)) + ", found " + g_[grad].shape.str() +
                " " + std::string(dtype_name(g_[grad].dtype)));
  for (auto& [o, gr] : gradients_)
    if (o == of) {
      gr = grad;
      return;
    }
  gradients_.emplace_back(of, grad);
}

std::optional<NodeId> Graph::gradient_of(NodeId of) const {
  for (auto& [o, gr] : gradients_)
    if (o == of) return gr;
  return std::nullopt;
}

std::vector<NodeId> Graph::topological_order() const {
  std::vector<NodeId> reversed;
  try {
    boost::topological_sort(g_, std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
    throw Error("the graph has a cycle");
  }
  return {reversed.rbegin(), reversed.rend()};
}

}  // namespace kiln
