#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.hpp"

namespace kiln {

// What a DOT picture of a graph shows beyond the nodes themselves.
struct DotOptions {
  // Drawn above the graph; empty for none.
  std::string title;
  // More rows under a node's name, op and shape (the planned stage puts each
  // buffer's arena offset and size here).
  std::map<NodeId, std::vector<std::string>> extra_lines;
  // Nodes with the same cluster name are drawn inside one box labelled with
  // that name (the nodes a fusion replaced, a layer, ...).
  std::map<NodeId, std::string> cluster;
};

// The kinds a picture tells apart by colour, defined for every stage so a
// picture of any stage uses the same palette.
enum class DotKind { param, data, forward, backward, gradient_sum, fused, update, collective };

// The kind a node is drawn as. Decided in this order: a data-parallel
// reduction (allreduce_*), the update role or an optimizer-update op, an
// `add_n` (a gradient sum), a fused op, the backward role, a param, another
// leaf (input, labels, constant), otherwise forward.
DotKind dot_kind(const Node& node);
// "param", "input / labels / constant", "forward", ... as in the legend.
std::string_view dot_kind_label(DotKind kind);
// The fill colour of a kind, as "#rrggbb".
std::string_view dot_kind_colour(DotKind kind);

// The graph in Graphviz DOT: one HTML-like table per node (name, op, shape,
// dtype when not f32, the options' extra lines), an edge per operand labelled
// with its operand index when the consumer has more than one, the loss drawn
// with a double border, and a legend of the kinds present. Every string the
// picture shows is escaped, so any node name, title or extra line yields
// valid DOT.
std::string to_dot(const Graph& g, const DotOptions& opts = {});

}  // namespace kiln
