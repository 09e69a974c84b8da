#pragma once
// Small onnx::Model values built by hand, for the importer's tests that need
// no protobuf (ordering, op mapping).
#include <string>
#include <vector>

#include "frontends/onnx/onnx_model.hpp"

namespace kiln::onnx::test {

inline NodeProto node(std::string op, std::vector<std::string> inputs, std::vector<std::string> outputs,
                      std::string name = {}, std::vector<Attribute> attributes = {}) {
  NodeProto n;
  n.op_type = std::move(op);
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.name = std::move(name);
  n.attributes = std::move(attributes);
  return n;
}

inline Attribute int_attribute(std::string name, std::int64_t value) {
  Attribute a;
  a.name = std::move(name);
  a.type = Attribute::Type::int64;
  a.i = value;
  return a;
}

inline Attribute float_attribute(std::string name, float value) {
  Attribute a;
  a.name = std::move(name);
  a.type = Attribute::Type::float32;
  a.f = value;
  return a;
}

inline TensorValue floats(std::string name, std::vector<std::int64_t> dims, std::vector<float> values) {
  TensorValue t;
  t.name = std::move(name);
  t.dims = std::move(dims);
  t.floats = std::move(values);
  return t;
}

inline TensorValue ints(std::string name, std::vector<std::int64_t> values) {
  TensorValue t;
  t.name = std::move(name);
  t.type = TensorValue::Type::int64;
  t.dims = {static_cast<std::int64_t>(values.size())};
  t.ints = std::move(values);
  return t;
}

// A model reading input `x` of `dims` (nullopt: symbolic) and writing `out`.
inline Model model_with(std::vector<std::optional<std::int64_t>> dims, std::vector<NodeProto> nodes,
                        std::vector<TensorValue> initializers = {}, std::int64_t opset = 13) {
  Model m;
  m.source = "test.onnx";
  m.opset = opset;
  ValueInfo x;
  x.name = "x";
  x.elem_type = 1;
  x.has_shape = true;
  x.dims = std::move(dims);
  m.inputs.push_back(x);
  ValueInfo out;
  out.name = "out";
  out.elem_type = 1;
  m.outputs.push_back(out);
  m.nodes = std::move(nodes);
  m.initializers = std::move(initializers);
  return m;
}

}  // namespace kiln::onnx::test
