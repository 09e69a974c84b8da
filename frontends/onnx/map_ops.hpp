#pragma once
// ONNX nodes onto kiln's op table.
#include <string>
#include <vector>

#include "frontends/builder.hpp"
#include "frontends/onnx/onnx_model.hpp"

namespace kiln::onnx {

struct MapOptions {
  std::optional<std::int64_t> batch;  // ImportOptions::batch
  std::string params_file;            // what each param's `file` init names
};

// Adds `model`'s graph (nodes already ordered, graph_order.hpp) to `b`:
// each graph input becomes an `input` of the same name, each FLOAT
// initializer a `param` of the same name and layout whose init reads it from
// options.params_file (its values kept in memory too), each node the kiln ops
// doing the same (docs/onnx.md has the table). Returns the kiln values of
// the graph outputs, in order.
//
// Throws kiln::Error starting with model.source and naming the ONNX node, its
// op type and the opset for an op kiln does not import (listing those it
// does), an attribute or operand it cannot map, or shapes kiln's op table
// rejects.
std::vector<Value> map_graph(const Model& model, Builder& b, const MapOptions& options);

// The ONNX operators map_graph imports, in name order (`kiln import
// --supported` prints them one per line).
std::vector<std::string> supported_op_names();
// The same, comma-separated, for messages and --help.
std::string supported_ops();

// An ONNX name as a kiln node name: characters kiln does not allow in names
// become '_' and leading '/' are dropped ("onnx::MatMul_5" -> "onnx__MatMul_5",
// "/fc1/Gemm" -> "fc1/Gemm").
std::string kiln_name(const std::string& onnx_name);

}  // namespace kiln::onnx
