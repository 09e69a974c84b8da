#include "graph/verify.hpp"

#include <unordered_set>

#include "graph/error.hpp"

namespace kiln {

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
    std::vector<TensorType> in;
    for (NodeId i : ins) in.push_back({g[i].shape, g[i].dtype});
    TensorType expected;
    try {
      expected = info.infer(in, n.attrs, TensorType{n.shape, n.dtype});
    } catch (const Error& e) {
      throw Error(describe(g, id) + ": " + e.what());
    }
    if (expected.shape != n.shape || expected.dtype != n.dtype)
      throw Error(describe(g, id) + ": stored type " + n.shape.str() + " " + std::string(dtype_name(n.dtype)) +
                  " disagrees with the inferred " + expected.shape.str() + " " +
                  std::string(dtype_name(expected.dtype)));
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
