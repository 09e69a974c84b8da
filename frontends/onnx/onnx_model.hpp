#pragma once
// An ONNX model as the importer sees it: the parts of the protobuf kiln maps,
// decoded and checked, in plain C++ (no protobuf type leaks out of
// decode_protobuf.cpp, so everything past decoding builds and is tested
// without libprotobuf).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::onnx {

// A tensor with its values. kiln trains f32; ONNX FLOAT tensors land in
// `floats`, INT64 ones (Reshape's shape operand) in `ints`. Every other data
// type is refused by the decoder.
struct TensorValue {
  enum class Type { float32, int64 };
  std::string name;
  Type type = Type::float32;
  std::vector<std::int64_t> dims;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
};

struct Attribute {
  enum class Type { int64, float32, ints, floats, string, tensor, other };
  std::string name;
  Type type = Type::other;
  std::int64_t i = 0;
  float f = 0.0f;
  std::vector<std::int64_t> ints;
  std::vector<float> floats;
  std::string s;
  std::optional<TensorValue> t;
};

struct NodeProto {
  std::string name;     // may be empty in ONNX; describe() then uses the first output
  std::string op_type;
  std::string domain;   // "" (ai.onnx) for every op kiln maps
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::vector<Attribute> attributes;

  const Attribute* attribute(std::string_view attribute_name) const;
};

// A graph input or output. A dimension is either a number or symbolic
// (dim_param, or absent): std::nullopt.
struct ValueInfo {
  std::string name;
  std::int32_t elem_type = 0;  // TensorProto.DataType; 1 = FLOAT
  bool has_shape = false;
  std::vector<std::optional<std::int64_t>> dims;
};

struct Model {
  std::string source;            // the file, for messages
  std::int64_t opset = 0;        // of the default (ai.onnx) domain
  std::vector<ValueInfo> inputs;   // graph inputs that are not initializers
  std::vector<ValueInfo> outputs;
  std::vector<TensorValue> initializers;
  std::vector<NodeProto> nodes;  // in a topological order once check_graph() ran
};

// What decoding refuses before allocating: a file's size, one tensor's
// element count, all tensors' elements together, and the node count.
struct DecodeLimits {
  std::int64_t max_file_bytes = std::int64_t{2} << 30;     // protobuf's own 2 GiB ceiling
  std::int64_t max_tensor_elements = std::int64_t{1} << 28;
  std::int64_t max_total_elements = std::int64_t{1} << 29;
  std::int64_t max_nodes = 100000;
};

// Reads an ONNX file. Tensor data stored externally (data_location
// EXTERNAL) is read from files inside the model's folder only. Throws
// kiln::Error starting with `path` on anything unreadable or refused
// (decode_protobuf.cpp lists what). Without ONNX support compiled in, every
// call throws one line saying so.
Model decode_onnx_file(const std::string& path, const DecodeLimits& limits = {});

// The same for bytes in memory (the fuzz harness); external data resolves
// against `folder`.
Model decode_onnx_bytes(std::string_view bytes, const std::string& source, const std::string& folder,
                        const DecodeLimits& limits = {});

// True when this kiln was built with ONNX import.
bool onnx_support_built();

// "ONNX node '/fc1/Gemm' (Gemm)": how every message about a node starts;
// an unnamed node is named by its first output.
std::string describe_node(const NodeProto& node);

}  // namespace kiln::onnx
