#pragma once
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace kiln {

// What one pass did, for `kiln compile --stats` and for tests: node counts
// before and after, and how often each of its rules fired.
struct PassStats {
  std::string pass;
  std::size_t nodes_before = 0, nodes_after = 0;
  std::map<std::string, int> fired;  // rule name -> count

  void count(const std::string& rule, int times = 1) { fired[rule] += times; }
  int count_of(const std::string& rule) const {
    auto it = fired.find(rule);
    return it == fired.end() ? 0 : it->second;
  }
};

// What every graph-to-graph pass may be told.
struct PassOptions {
  // Nodes that must survive under their names and with their values (the
  // nodes autodiff will differentiate, evaluation outputs): never absorbed
  // into a fused node, merged into another or removed.
  std::vector<std::string> keep;
};

// Who reads a node from outside the graph, which decides what a pass may do
// with it.
struct Observers {
  // Readers that know the node by its name, so it must keep its name and
  // value: Role::update nodes, the differentiated side of every gradient
  // pair (the user asks "the gradient of fc1/W"), and names given in `keep`.
  std::vector<bool> pinned;
  // Readers that know the node only through Graph::loss() or
  // Graph::gradients(): its value must survive, but a pass-through survivor
  // may take over the role under its own name.
  std::vector<bool> role;

  bool any(NodeId v) const { return pinned[v] || role[v]; }
};

// `keep` names further nodes to pin (evaluation outputs, the nodes autodiff
// will differentiate); names that no node has are ignored, so callers
// validate user input first.
Observers observe(const Graph& g, const std::vector<std::string>& keep = {});

// Builds a new Graph from `source` with substitutions decided up front: a
// pass inspects the source graph, records what becomes of some nodes, and
// run() copies everything else unchanged, in the source's (topological) id
// order. Names and roles are kept: a replacement takes the name and role of
// the node it replaces, so `loss`, `grad/W` and the like stay stable. The
// loss and the gradient pairs are carried over through the id remap. All
// node ids given to the decisions below are ids of `source`.
//
// Mistakes in a pass's decisions are internal errors (kiln::Error naming the
// pass and the nodes): using a dropped node, a replacement of another type,
// a survivor that comes later than the node it stands for.
class Rewrite {
 public:
  Rewrite(const Graph& source, std::string pass);

  const Graph& source() const { return src_; }

  // `node` disappears. Nothing that is kept may read it, and it may not be
  // the loss or part of a gradient pair.
  void drop(NodeId node);
  // Every reader of `node` reads `survivor` (an earlier node of the same
  // shape and dtype) instead, and `node` disappears; the survivor keeps its
  // own name and takes over `node`'s loss and gradient roles.
  void forward(NodeId node, NodeId survivor);
  // `node` is computed by `op` over `operands` (earlier nodes) instead; the
  // result must have `node`'s shape and dtype, and gets its name and role.
  void replace(NodeId node, OpKind op, std::vector<NodeId> operands, Attrs attrs = {});
  // `node` becomes a constant holding `values` (row-major, its shape and
  // dtype), under its name and role.
  void replace_with_constant(NodeId node, std::vector<double> values);

  // Whether a decision was recorded for `node`.
  bool decided(NodeId node) const { return actions_[node].kind != Action::keep; }
  // How many nodes a decision removes (drops and forwards).
  std::size_t removed() const;

  Graph run() const;

 private:
  struct Action {
    enum Kind { keep, drop, forward, replace } kind = keep;
    NodeId survivor = 0;
    OpKind op = OpKind::input;
    std::vector<NodeId> operands;
    Attrs attrs;
  };

  void decide(NodeId node, Action action);
  [[noreturn]] void internal_error(const std::string& what) const;

  const Graph& src_;
  std::string pass_;
  std::vector<Action> actions_;
};

// A fusion rule: records its matches in `rw` and returns how many fired.
struct NamedRule {
  const char* name;
  int (*apply)(const Graph& g, const Observers& obs, Rewrite& rw);
};

// Applies `rules` in order, each to the graph the previous one produced,
// counting what fired in `stats` under each rule's name.
Graph apply_rules(const Graph& g, std::span<const NamedRule> rules, const char* pass, PassStats& stats,
                  const PassOptions& options);

}  // namespace kiln
