#pragma once
// What training needs to know about a classifier graph (which node is fed the
// features, which the labels, which holds the class scores), and the edits a
// training run makes to a model graph before compiling it: another batch
// size, another initialiser for every param, no loss (for evaluation).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "frontends/onnx/import_options.hpp"
#include "graph/graph.hpp"

namespace kiln::train {

struct ClassifierNodes {
  // the one `input` node, [batch, d1, ..., dk]: a row of the dataset's
  // features fills one [d1, ..., dk] slice in row-major order (features =
  // d1·…·dk), as an exported model's [batch, 1, 28, 28] input is fed
  std::string input;
  std::string labels;  // the one `labels` node, [batch]
  std::string logits;  // the class scores the loss's softmax reads, [batch, classes]
  std::int64_t batch = 0, features = 0, classes = 0;
  DType dtype = DType::f32;  // of the input
  Shape input_shape;         // [batch, d1, ..., dk]
};

// Finds the nodes above in a forward graph with a loss. The logits are the
// first operand of a softmax_cross_entropy, or the operand of the softmax a
// cross_entropy reads, found walking back from the loss. Throws kiln::Error
// starting with `source` when the graph has no loss, not exactly one input
// and one labels node, an input of rank below 2 or without the labels'
// batch, or no such classification loss.
ClassifierNodes find_classifier_nodes(const Graph& g, const std::string& source);

struct GraphEdits {
  std::optional<std::int64_t> batch;  // the leading dimension of every input and labels node
  std::optional<Init> init;           // replaces every param's initialiser
  bool drop_loss = false;             // an evaluation graph: nothing to minimise
};

// A copy of forward graph `g` (no gradients yet) with `edits` applied,
// shapes inferred anew. Throws kiln::Error naming the node whose shape no
// longer fits (e.g. a constant sized for the old batch).
Graph edit_graph(const Graph& g, const GraphEdits& edits);

// Parses the --init option: zeros, he, xavier, normal:STD, uniform:LOW,HIGH
// or constant:VALUE. Throws kiln::Error listing these forms otherwise.
Init parse_init(std::string_view text);
// The inverse, for run headers and checkpoint metadata.
std::string init_to_string(const Init& init);

}  // namespace kiln::train

namespace kiln::train {

// A model to train: a built-in (frontends/models.hpp) or a graph file.
struct ModelSource {
  Graph graph;          // forward graph with its loss, at the model's own batch size
  std::string name;     // "logreg", or the graph file's name without directory
  std::string path;     // the graph file; "" for a built-in
  bool builtin = false;
};

// `model` is a built-in name or a path to a .json graph file or an .onnx
// model (imported with `onnx`'s loss, labels and batch). `hidden`
// ("100,200", "" for the default) and `weight_decay` (the loss's L2 term,
// absent for the default) apply to built-ins only; a graph file with
// `hidden` is an error. An unknown name that is no file is an error listing
// the built-ins.
ModelSource load_model(const std::string& model, const std::string& hidden = "",
                       std::optional<double> weight_decay = std::nullopt, const onnx::ImportOptions& onnx = {});

}  // namespace kiln::train
