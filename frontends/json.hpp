#pragma once
#include <string>
#include <string_view>

#include "frontends/onnx/import_options.hpp"
#include "graph/graph.hpp"

// kiln graph files (JSON), as specified in GRAPH_FORMAT.md.
//
// Reading builds the graph through Graph::add / add_explicit, so shapes are
// inferred and checked by the op table. Anything the reader does not
// understand is a kiln::Error that names the source, the node, the field and
// what was expected versus found; the reader never guesses a default that the
// format does not define.
//
// Beyond GRAPH_FORMAT.md version 1 the reader and writer know two optional
// fields, so that a graph after autodiff or optimizer insertion survives a
// round trip:
//   node:      "role": "forward" (default) | "backward" | "update"
//   top level: "gradients": {"W": "grad/W", ...}, Graph::gradients() in order
namespace kiln {

// Parses a graph file's text. `source` (a path, or "<string>") starts every
// error message. The relative paths of `{"kind": "file"}` inits resolve
// against `base_directory` (empty: the current directory); their values are
// read here, and any problem with them is an Error naming the source, the
// node, the init file and the tensor.
Graph parse_graph_json(std::string_view text, const std::string& source = "<string>",
                       const std::string& base_directory = {});

// Reads and parses a graph file; a missing or unreadable file is an Error
// naming the path. File inits resolve against the graph file's folder. A
// path ending in .onnx is imported instead (frontends/onnx/import.hpp), with
// `onnx`'s loss, labels and batch: the one place every command reading a
// graph file learns ONNX.
Graph load_graph_file(const std::string& path, const onnx::ImportOptions& onnx = {});

// The graph as a deterministic, pretty-printed graph file: one node per line,
// nodes in creation order, only the fields each op accepts, defaults left out
// (dtype f32, transpose false, absent axis, forward role). Doubles are written
// in their shortest form that reads back to the same value. Throws when a
// number cannot be written in JSON (NaN or infinity).
std::string graph_to_json(const Graph& g);

// A file init is written as its path and tensor, as read (not its values):
// a relative path stays relative to the graph file, so a graph saved to
// another folder needs its tensor files beside it.
//
// Writes graph_to_json(g) to `path` through a temporary file in the same
// directory renamed over `path`, so a reader never sees a half-written file.
void save_graph_file(const Graph& g, const std::string& path);

}  // namespace kiln
