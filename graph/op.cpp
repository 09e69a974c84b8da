#include "graph/op.hpp"

#include <array>

#include "graph/node.hpp"
#include "graph/shape_rules.hpp"

namespace kiln {
namespace {

constexpr std::array<OpInfo, kOpCount> kOpTable = {{
#define KILN_OP(name, arity, attrs, category, rule) {#name, arity, attrs, category, &shape_rules::rule},
#include "graph/ops.def"
#undef KILN_OP
}};

}  // namespace

const OpInfo& op_info(OpKind op) { return kOpTable[static_cast<std::size_t>(op)]; }

std::optional<OpKind> find_op(std::string_view name) {
  for (std::size_t i = 0; i < kOpTable.size(); ++i)
    if (kOpTable[i].name == name) return static_cast<OpKind>(i);
  return std::nullopt;
}

std::string_view category_name(Category c) {
  switch (c) {
    case Category::leaf: return "leaf";
    case Category::elementwise: return "elementwise";
    case Category::reduction: return "reduction";
    case Category::linalg: return "linalg";
    case Category::classification: return "classification";
    case Category::regularisation: return "regularisation";
    case Category::fused: return "fused";
    case Category::gradient: return "gradient";
    case Category::update: return "update";
    case Category::projection: return "projection";
    case Category::collective: return "collective";
  }
  return "?";
}

std::string_view init_kind_name(Init::Kind k) {
  switch (k) {
    case Init::Kind::zeros: return "zeros";
    case Init::Kind::constant: return "constant";
    case Init::Kind::normal: return "normal";
    case Init::Kind::uniform: return "uniform";
    case Init::Kind::xavier: return "xavier";
    case Init::Kind::he: return "he";
  }
  return "?";
}

std::optional<Init::Kind> parse_init_kind(std::string_view s) {
  for (auto k : {Init::Kind::zeros, Init::Kind::constant, Init::Kind::normal, Init::Kind::uniform, Init::Kind::xavier,
                 Init::Kind::he})
    if (init_kind_name(k) == s) return k;
  return std::nullopt;
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::forward: return "forward";
    case Role::backward: return "backward";
    case Role::update: return "update";
  }
  return "?";
}

}  // namespace kiln
