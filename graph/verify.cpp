#include "graph/verify.hpp"

#include <unordered_set>

#include "graph/error.hpp"
#include "graph/shape_rules.hpp"

namespace kiln {
namespace {

// The kernel of a multi-output node writes output k into the buffer of its
// get_output node for k, so there may be only one such node per output.
void check_projections(const Graph& g, NodeId id) {
  std::vector<std::string> reader(g[id].extra_outputs.size() + 1);
  for (NodeId r : g.consumers(id)) {
    if (g[r].op != OpKind::get_output) continue;
    auto k = static_cast<std::size_t>(g[r].attrs.index);
    if (k >= reader.size()) continue;  // the reader's own shape rule rejects it
    if (!reader[k].empty() && reader[k] != g[r].name)
      throw Error(describe(g, id) + ": output " + std::to_string(k) + " is read by two get_output nodes, '" +
                  reader[k] + "' and '" + g[r].name + "'; expected at most one");
    reader[k] = g[r].name;
  }
}

}  // namespace

void verify(const Graph& g) {
  std::unordered_set<std::string> names;
  for (NodeId id : g.ids()) {
    const Node& n = g[id];
    if (!is_valid_node_name(n.name)) throw Error("node name '" + n.name + "' is invalid");
    if (!names.insert(n.name).second) throw Error(describe(g, id) + ": the name is used by more than one node");
    std::vector<NodeId> ins = g.inputs(id);
    const OpInfo& info = n.info();
    if (info.arity == kVariadic ? ins.empty() : ins.size() != static_cast<std::size_t>(info.arity))
      throw Error(describe(g, id) + ": expects " +
                  (info.arity == kVariadic ? std::string("at least 1") : std::to_string(info.arity)) +
                  " inputs, found " + std::to_string(ins.size()));
    std::vector<TensorType> in = operand_types(g, n.op, ins);
    TensorType expected;
    std::vector<TensorType> extra;
    try {
      expected = info.infer(in, n.attrs, TensorType{n.shape, n.dtype});
      extra = shape_rules::extra_outputs(n.op, in, n.attrs);
    } catch (const Error& e) {
      throw Error(describe(g, id) + ": " + e.what());
    }
    if (expected.shape != n.shape || expected.dtype != n.dtype)
      throw Error(describe(g, id) + ": stored type " + n.shape.str() + " " + std::string(dtype_name(n.dtype)) +
                  " disagrees with the inferred " + expected.shape.str() + " " +
                  std::string(dtype_name(expected.dtype)));
    if (extra != n.extra_outputs)
      throw Error(describe(g, id) + ": stores " + std::to_string(n.extra_outputs.size() + 1) +
                  " outputs, its op yields " + std::to_string(extra.size() + 1));
    check_projections(g, id);
  }
  (void)g.topological_order();
  for (auto [of, grad] : g.gradients())
    if (g[of].shape != g[grad].shape || g[of].dtype != g[grad].dtype)
      throw Error(describe(g, grad) + ": as the gradient of " + describe(g, of) + " it must have shape " +
                  g[of].shape.str() + ", found " + g[grad].shape.str());
  if (auto loss = g.loss(); loss && !g[*loss].shape.is_scalar())
    throw Error(describe(g, *loss) + ": the loss must be a scalar, found shape " + g[*loss].shape.str());
}

}  // namespace kiln
