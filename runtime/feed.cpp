#include "runtime/feed.hpp"

namespace kiln {

void check_labels(const Tensor& labels, std::int64_t classes, std::string_view who) {
  const std::int32_t* ids = labels.data<std::int32_t>();
  for (std::size_t r = 0; r < labels.numel(); ++r)
    if (ids[r] < 0 || ids[r] >= classes)
      throw Error(std::string(who) + ": row " + std::to_string(r) + " has class id " + std::to_string(ids[r]) +
                  ", expected one in [0, " + std::to_string(classes) + ")");
}

void check_feed(const Graph& g, NodeId id, const Tensor& value) {
  const Node& n = g[id];
  if (!n.info().is_leaf())
    throw Error(describe(g, id) + ": only input, labels, param and constant nodes can be fed");
  if (n.shape != value.shape() || n.dtype != value.dtype())
    throw Error(describe(g, id) + ": fed value must be " + type_str(n.shape, n.dtype) + ", found " +
                value.type_str());
  if (n.op == OpKind::labels) check_labels(value, n.attrs.classes, describe(g, id));
}

}  // namespace kiln
