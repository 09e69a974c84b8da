#include "frontends/onnx/onnx_model.hpp"

namespace kiln::onnx {

const Attribute* NodeProto::attribute(std::string_view attribute_name) const {
  for (const Attribute& a : attributes)
    if (a.name == attribute_name) return &a;
  return nullptr;
}

std::string describe_node(const NodeProto& node) {
  std::string name = node.name;
  if (name.empty() && !node.outputs.empty()) name = node.outputs.front();
  return "ONNX node '" + name + "' (" + node.op_type + ")";
}

}  // namespace kiln::onnx
