#pragma once
// ONNX files to kiln graphs: decode and check (onnx_model.hpp), order
// (graph_order.hpp), map the ops (map_ops.hpp), attach the loss
// (attach_loss.hpp). docs/onnx.md says what is imported and what refused.
#include <string>

#include "frontends/onnx/import_options.hpp"
#include "graph/graph.hpp"

namespace kiln::onnx {

// True for a path ending in ".onnx": what every command that reads a graph
// file imports instead of parsing as JSON.
bool is_onnx_path(const std::string& path);

// The forward graph of the ONNX file at `path`, with its loss. Each param's
// values are in its init (kind file, naming options.params_file or
// "<model stem>.safetensors"), so the graph compiles and trains with no file
// written. Throws kiln::Error naming the file and the culprit.
Graph import_onnx(const std::string& path, const ImportOptions& options = {});

// Writes an imported graph to `graph_path` and its params' values to the
// safetensors file their inits name, beside it; each file is written to a
// temporary name and renamed, the params first, so the graph file never
// names values that are not on disk.
void save_imported_graph(const Graph& g, const std::string& graph_path);

}  // namespace kiln::onnx
