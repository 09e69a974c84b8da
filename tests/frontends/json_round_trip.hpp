#pragma once
// Shared by the JSON and model tests: writes a graph, reads it back, and
// requires the two to agree node by node and byte by byte.
#include <catch2/catch.hpp>

#include <string>

#include "frontends/json.hpp"
#include "graph/graph.hpp"

namespace kiln::test {

inline std::vector<std::string> input_names(const Graph& g, NodeId id) {
  std::vector<std::string> names;
  for (NodeId in : g.inputs(id)) names.push_back(g[in].name);
  return names;
}

// Returns the JSON text of `g`.
inline std::string require_round_trip(const Graph& g) {
  const std::string text = graph_to_json(g);
  Graph back = parse_graph_json(text, "round-trip");
  CHECK(graph_to_json(back) == text);
  REQUIRE(back.size() == g.size());
  for (NodeId id : g.ids()) {
    const Node& a = g[id];
    const Node& b = back[id];
    INFO("node '" << a.name << "' (" << op_name(a.op) << ")");
    CHECK(b.name == a.name);
    CHECK(b.op == a.op);
    CHECK(b.shape == a.shape);
    CHECK(b.dtype == a.dtype);
    CHECK(b.attrs == a.attrs);
    CHECK(b.role == a.role);
    CHECK(b.extra_outputs == a.extra_outputs);
    CHECK(input_names(back, id) == input_names(g, id));
  }
  REQUIRE(back.loss().has_value() == g.loss().has_value());
  if (g.loss()) CHECK(back[*back.loss()].name == g[*g.loss()].name);
  auto gradient_names = [](const Graph& graph) {
    std::vector<std::pair<std::string, std::string>> names;
    for (auto [of, grad] : graph.gradients()) names.emplace_back(graph[of].name, graph[grad].name);
    return names;
  };
  CHECK(gradient_names(back) == gradient_names(g));
  return text;
}

}  // namespace kiln::test
