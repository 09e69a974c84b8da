#pragma once
#include <string_view>
#include <vector>

#include "graph/node.hpp"
#include "graph/op.hpp"

// The field names of kiln graph files and which of them each op and each init
// kind accepts, shared by the reader and the writer so the two cannot drift.
namespace kiln::json_fields {

inline constexpr std::string_view kName = "name";
inline constexpr std::string_view kOp = "op";
inline constexpr std::string_view kInputs = "inputs";
inline constexpr std::string_view kShape = "shape";
inline constexpr std::string_view kDtype = "dtype";
inline constexpr std::string_view kInit = "init";
inline constexpr std::string_view kValue = "value";
inline constexpr std::string_view kRole = "role";

// Node fields in the order the writer emits them: name, op, `inputs` for ops
// that take operands, the op's attributes as graph/ops.def declares them,
// then role.
inline std::vector<std::string_view> accepted_fields(OpKind op) {
  std::vector<std::string_view> f{kName, kOp};
  if (op_info(op).arity != 0) f.push_back(kInputs);
  for (const AttrUse& use : attr_uses(op)) f.push_back(attr_name(use.id));
  f.push_back(kRole);
  return f;
}

// The keys of an "init" object for one kind.
inline std::vector<std::string_view> init_fields(Init::Kind kind) {
  switch (kind) {
    case Init::Kind::constant: return {"kind", "value", "seed"};
    case Init::Kind::normal: return {"kind", "mean", "std", "seed"};
    case Init::Kind::uniform: return {"kind", "low", "high", "seed"};
    case Init::Kind::file: return {"kind", "path", "tensor"};
    case Init::Kind::zeros:
    case Init::Kind::xavier:
    case Init::Kind::he: break;
  }
  return {"kind", "seed"};
}

}  // namespace kiln::json_fields
