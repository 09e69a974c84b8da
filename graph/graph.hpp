#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "graph/node.hpp"

namespace kiln {

// An edge runs from an operand to its consumer and carries the operand index.
struct Edge {
  int operand = 0;
};

using BoostGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Node, Edge>;
using NodeId = BoostGraph::vertex_descriptor;

// The IR. Nodes are only ever appended (a pass builds a new Graph), so a
// NodeId stays valid for the life of its Graph and ids are in creation order,
// which is a topological order.
class Graph {
 public:
  // Adds an op node; infers its shape and dtype from the operands. Throws
  // kiln::Error naming the node when the name is taken or malformed, the
  // arity is wrong, or the shape rule rejects the operands.
  NodeId add(OpKind op, const std::vector<NodeId>& inputs, Attrs attrs, std::string name,
             Role role = Role::forward);
  // Adds a leaf (input, labels, param, constant) or another op whose shape is
  // given explicitly (expand); `shape` and `dtype` are checked by its rule.
  NodeId add_explicit(OpKind op, const std::vector<NodeId>& inputs, Shape shape, DType dtype, Attrs attrs,
                      std::string name, Role role = Role::forward);

  std::size_t size() const { return boost::num_vertices(g_); }
  const Node& node(NodeId id) const { return g_[id]; }
  const Node& operator[](NodeId id) const { return g_[id]; }
  // All node ids in creation order.
  std::vector<NodeId> ids() const;

  // Operands in operand order.
  std::vector<NodeId> inputs(NodeId id) const;
  // Consumers in creation order; a consumer using the node twice appears twice.
  std::vector<NodeId> consumers(NodeId id) const;

  // Every output of a node: its shape and dtype, then Node::extra_outputs.
  std::vector<TensorType> output_types(NodeId id) const;
  // The get_output node reading output `index` (>= 1) of `id`, if any (the
  // verifier allows at most one).
  std::optional<NodeId> projection(NodeId id, int index) const;

  std::optional<NodeId> find(std::string_view name) const;
  // Like find(); throws kiln::Error "no node named 'x'" when absent.
  NodeId at(std::string_view name) const;
  // `base` if free, else `base_1`, `base_2`, ...
  std::string unique_name(std::string_view base) const;

  // The scalar node that training minimises, if any.
  std::optional<NodeId> loss() const { return loss_; }
  void set_loss(NodeId id);
  void clear_loss() { loss_.reset(); }

  // The gradient of the loss with respect to `of` is node `grad` (recorded by
  // autodiff; later passes carry it over, the runtime reads it).
  void set_gradient(NodeId of, NodeId grad);
  std::optional<NodeId> gradient_of(NodeId of) const;
  // (differentiated node, its gradient) pairs in the order they were set.
  const std::vector<std::pair<NodeId, NodeId>>& gradients() const { return gradients_; }

  // Lets a pass re-tag a node it derived (e.g. backward vs update).
  void set_role(NodeId id, Role role) { g_[id].role = role; }

  // Operand-before-consumer order from boost::topological_sort; throws
  // kiln::Error naming a node on the cycle when there is one.
  std::vector<NodeId> topological_order() const;

  const BoostGraph& boost() const { return g_; }

 private:
  NodeId insert(Node node, const std::vector<NodeId>& inputs);

  BoostGraph g_;
  std::unordered_map<std::string, NodeId> by_name_;
  std::optional<NodeId> loss_;
  std::vector<std::pair<NodeId, NodeId>> gradients_;
};

// What the shape rule of `op` sees of its operands `inputs`: each one's
// type, except that a get_output sees every output of the node it reads.
std::vector<TensorType> operand_types(const Graph& g, OpKind op, const std::vector<NodeId>& inputs);

// True when `name` is non-empty and uses only letters, digits, _ - / .
bool is_valid_node_name(std::string_view name);

// "node 'fc1' (matmul)": how every message about a node starts.
std::string describe(const Graph& g, NodeId id);

}  // namespace kiln
