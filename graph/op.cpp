#include "graph/op.hpp"

#include <array>
#include <cmath>
#include <sstream>
#include <vector>

#include "graph/node.hpp"
#include "graph/shape_rules.hpp"

namespace kiln {
namespace {

constexpr std::uint64_t attr_bit(AttrId id) { return std::uint64_t{1} << static_cast<unsigned>(id); }

// The attribute mask of an ops.def line: each entry contributes its bit.
#define ATTR(name, default_value, check) | attr_bit(AttrId::name)
#define REQUIRED(name, check) | attr_bit(AttrId::name)
#define FIELD(name) | attr_bit(AttrId::name)
#define NO_ATTRS
constexpr std::array<OpInfo, kOpCount> kOpTable = {{
#define KILN_OP(name, arity, attrs, category, rule, onnx) \
  {#name, arity, 0 attrs, Category::category, &shape_rules::rule, onnx},
#include "graph/ops.def"
#undef KILN_OP
}};
#undef ATTR
#undef REQUIRED
#undef FIELD

static_assert(kAttrCount <= 64, "OpInfo::attr_mask holds one bit per attribute kind");

// The declarations themselves, one list per op.
std::array<std::vector<AttrUse>, kOpCount> make_attr_uses() {
  using namespace attr_checks;
#define ATTR(name, default_value, check) make_attr_use<AttrId::name>(false, default_value, check),
#define REQUIRED(name, check) \
  make_attr_use<AttrId::name>(true, Attrs{}.name, check),
// The output shape is required; the dtype defaults to f32.
#define FIELD(name) AttrUse{AttrId::name, AttrId::name == AttrId::shape, {}, {}, {}},
  return {{
#define KILN_OP(name, arity, attrs, category, rule, onnx) std::vector<AttrUse>{attrs},
#include "graph/ops.def"
#undef KILN_OP
  }};
#undef ATTR
#undef REQUIRED
#undef FIELD
}
#undef NO_ATTRS

const std::array<std::vector<AttrUse>, kOpCount>& all_attr_uses() {
  static const std::array<std::vector<AttrUse>, kOpCount> uses = make_attr_uses();
  return uses;
}

const std::array<Attrs, kOpCount>& all_defaults() {
  static const std::array<Attrs, kOpCount> defaults = [] {
    std::array<Attrs, kOpCount> out;
    for (std::size_t k = 0; k < kOpCount; ++k)
      for (const AttrUse& use : all_attr_uses()[k])
        if (use.set_default) use.set_default(out[k]);
    return out;
  }();
  return defaults;
}

}  // namespace

const OpInfo& op_info(OpKind op) { return kOpTable[static_cast<std::size_t>(op)]; }

std::optional<OpKind> find_op(std::string_view name) {
  for (std::size_t i = 0; i < kOpTable.size(); ++i)
    if (kOpTable[i].name == name) return static_cast<OpKind>(i);
  return std::nullopt;
}

std::span<const AttrUse> attr_uses(OpKind op) { return all_attr_uses()[static_cast<std::size_t>(op)]; }

const Attrs& defaults_for(OpKind op) { return all_defaults()[static_cast<std::size_t>(op)]; }

std::optional<AttrProblem> check_attrs(OpKind op, const Attrs& attrs) {
  for (const AttrUse& use : attr_uses(op))
    if (use.check)
      if (std::optional<std::string> problem = use.check(attrs)) return AttrProblem{use.id, std::move(*problem)};
  return std::nullopt;
}

bool is_default_value(OpKind op, AttrId id, const Attrs& attrs) { return same_attr(id, attrs, defaults_for(op)); }

std::string_view attr_name(AttrId id) {
  switch (id) {
#define KILN_NODE_FIELD(name) \
  case AttrId::name:          \
    return #name;
#define KILN_ATTR(name, type, default_value) \
  case AttrId::name:                         \
    return #name;
#include "graph/attrs.def"
#undef KILN_ATTR
#undef KILN_NODE_FIELD
  }
  return "?";
}

std::optional<AttrId> find_attr(std::string_view name) {
  for (std::size_t k = 0; k < kAttrCount; ++k)
    if (attr_name(static_cast<AttrId>(k)) == name) return static_cast<AttrId>(k);
  return std::nullopt;
}

bool is_node_field(AttrId id) { return id == AttrId::shape || id == AttrId::dtype; }

namespace attr_checks {

std::string format_value(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::optional<std::string> FiniteNumber::operator()(double v) const {
  if (std::isfinite(v)) return std::nullopt;
  return "expected a finite number, found " + format_value(v);
}

std::optional<std::string> PositiveInteger::operator()(std::int64_t v) const {
  if (v > 0) return std::nullopt;
  return "expected a positive integer, found " + std::to_string(v);
}

std::optional<std::string> NonNegativeInteger::operator()(std::int64_t v) const {
  if (v >= 0) return std::nullopt;
  return "expected a non-negative integer, found " + std::to_string(v);
}

}  // namespace attr_checks

std::string_view category_name(Category c) {
  switch (c) {
    case Category::leaf: return "leaf";
    case Category::unary: return "unary";
    case Category::elementwise: return "elementwise";
    case Category::reduction: return "reduction";
    case Category::linalg: return "linalg";
    case Category::classification: return "classification";
    case Category::regularisation: return "regularisation";
    case Category::fused: return "fused";
    case Category::gradient: return "gradient";
    case Category::update: return "update";
    case Category::projection: return "projection";
    case Category::layout: return "layout";
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
    case Init::Kind::file: return "file";
  }
  return "?";
}

std::optional<Init::Kind> parse_init_kind(std::string_view s) {
  for (auto k : {Init::Kind::zeros, Init::Kind::constant, Init::Kind::normal, Init::Kind::uniform, Init::Kind::xavier,
                 Init::Kind::he, Init::Kind::file})
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
