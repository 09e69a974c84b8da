#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// How a param is initialised. Fields that a kind does not use are ignored and
// are not written to JSON.
struct Init {
  enum class Kind { zeros, constant, normal, uniform, xavier, he, file };
  Kind kind = Kind::zeros;
  double value = 0.0;             // constant
  double mean = 0.0, std = 1.0;   // normal
  double low = 0.0, high = 1.0;   // uniform
  std::optional<std::uint64_t> seed;
  // file: values read from a tensor file when the graph was read. `path` is
  // the reference as the graph file writes it (relative to that file's
  // folder, or absolute), `tensor` the name inside a safetensors file (empty
  // for a .npy file), `values` the param's elements in row-major order,
  // shared by the copies of a graph rather than copied with them.
  std::string path;
  std::string tensor;
  std::shared_ptr<const std::vector<double>> values;

  static Init zeros() { return {}; }
  static Init constant(double v) { Init i; i.kind = Kind::constant; i.value = v; return i; }
  static Init normal(double std, double mean = 0.0) { Init i; i.kind = Kind::normal; i.std = std; i.mean = mean; return i; }
  static Init uniform(double low, double high) { Init i; i.kind = Kind::uniform; i.low = low; i.high = high; return i; }
  static Init xavier() { Init i; i.kind = Kind::xavier; return i; }
  static Init he() { Init i; i.kind = Kind::he; return i; }
  static Init from_values(std::vector<double> values, std::string path, std::string tensor = {}) {
    Init i;
    i.kind = Kind::file;
    i.path = std::move(path);
    i.tensor = std::move(tensor);
    i.values = std::make_shared<const std::vector<double>>(std::move(values));
    return i;
  }

  // Compares the file values by content, not by pointer.
  friend bool operator==(const Init& a, const Init& b) {
    auto same_values = [](const auto& x, const auto& y) { return x == y || (x && y && *x == *y); };
    return a.kind == b.kind && a.value == b.value && a.mean == b.mean && a.std == b.std && a.low == b.low &&
           a.high == b.high && a.seed == b.seed && a.path == b.path && a.tensor == b.tensor &&
           same_values(a.values, b.values);
  }
};

std::string_view init_kind_name(Init::Kind k);
std::optional<Init::Kind> parse_init_kind(std::string_view s);


// Every attribute kind (graph/attrs.def), and the two node fields an op may
// declare beside them (its explicit output shape and dtype).
enum class AttrId : std::uint8_t {
#define KILN_NODE_FIELD(name) name,
#define KILN_ATTR(name, type, default_value) name,
#include "graph/attrs.def"
#undef KILN_ATTR
#undef KILN_NODE_FIELD
};

inline constexpr std::size_t kAttrCount = 0
#define KILN_NODE_FIELD(name) +1
#define KILN_ATTR(name, type, default_value) +1
#include "graph/attrs.def"
#undef KILN_ATTR
#undef KILN_NODE_FIELD
    ;

// The JSON field, Python keyword and DOT label of an attribute.
std::string_view attr_name(AttrId id);
std::optional<AttrId> find_attr(std::string_view name);
// shape and dtype live in the Node, not in Attrs.
bool is_node_field(AttrId id);

// The attribute values of one node, one typed member per kind in
// graph/attrs.def. Which members an op reads, and their defaults for that op,
// are the op's declaration in graph/ops.def (defaults_for, attr_uses in
// graph/op.hpp); members the op does not declare keep the defaults below.
// A plain struct rather than a map, so that a kernel reads an attribute as a
// member, with no lookup inside a step.
struct Attrs {
#define KILN_NODE_FIELD(name)
#define KILN_ATTR(name, type, default_value) type name = default_value;
#include "graph/attrs.def"
#undef KILN_ATTR
#undef KILN_NODE_FIELD

  friend bool operator==(const Attrs&, const Attrs&) = default;
};

// The C++ type and member of each attribute kind, for code that handles
// attributes generically (readers, writers, DOT, the Python builder).
template <AttrId id>
struct AttrTraits;
#define KILN_NODE_FIELD(name)
#define KILN_ATTR(name, type_, default_value)            \
  template <>                                            \
  struct AttrTraits<AttrId::name> {                      \
    using type = type_;                                  \
    static constexpr type Attrs::*member = &Attrs::name; \
  };
#include "graph/attrs.def"
#undef KILN_ATTR
#undef KILN_NODE_FIELD

// Calls f(member) with the Attrs member of `id` (const or not, as `attrs`).
// Returns false, calling nothing, for the node fields shape and dtype.
template <class AttrsT, class F>
bool visit_attr(AttrId id, AttrsT& attrs, F&& f) {
  switch (id) {
#define KILN_NODE_FIELD(name) \
  case AttrId::name:          \
    return false;
#define KILN_ATTR(name, type, default_value) \
  case AttrId::name:                         \
    f(attrs.name);                           \
    return true;
#include "graph/attrs.def"
#undef KILN_ATTR
#undef KILN_NODE_FIELD
  }
  return false;
}

// Whether `a` and `b` hold the same value of attribute `id` (true for the
// node fields, which Attrs does not hold).
inline bool same_attr(AttrId id, const Attrs& a, const Attrs& b) {
  switch (id) {
#define KILN_NODE_FIELD(name) \
  case AttrId::name:          \
    return true;
#define KILN_ATTR(name, type, default_value) \
  case AttrId::name:                         \
    return a.name == b.name;
#include "graph/attrs.def"
#undef KILN_ATTR
#undef KILN_NODE_FIELD
  }
  return true;
}

// One attribute as an op declares it (graph/ops.def): required in files, or
// optional with the op's own default; and the check every value must pass,
// which says what it expected and what it found.
struct AttrUse {
  AttrId id;
  bool required = false;
  // What a value must be, for "missing field" messages ("a positive
  // integer"); empty when the attribute's type says it all.
  std::string_view expects;
  std::function<void(Attrs&)> set_default;                      // empty for node fields
  std::function<std::optional<std::string>(const Attrs&)> check;  // nullopt: valid
};

// The checks ops.def names, one per kind of constraint. Each takes a value
// of the attribute's type and returns what was wrong, or nullopt; `expects`
// says what it accepts.
namespace attr_checks {

std::string format_value(double v);

struct AnyValue {
  static constexpr std::string_view expects = "";
  template <class T>
  std::optional<std::string> operator()(const T&) const {
    return std::nullopt;
  }
};
struct FiniteNumber {
  static constexpr std::string_view expects = "a number";
  std::optional<std::string> operator()(double v) const;
};
struct PositiveInteger {
  static constexpr std::string_view expects = "a positive integer";
  std::optional<std::string> operator()(std::int64_t v) const;
};
struct NonNegativeInteger {
  static constexpr std::string_view expects = "a non-negative integer";
  std::optional<std::string> operator()(std::int64_t v) const;
};

// reshape's dims: what each entry means is the shape rule's to check,
// against the operand's shape.
struct ReshapeDims : AnyValue {
  static constexpr std::string_view expects = "a list of integers (a dimension, 0 to keep one, -1 to infer one)";
};

inline constexpr AnyValue any{};
inline constexpr ReshapeDims reshape_dims{};
inline constexpr FiniteNumber finite{};
inline constexpr PositiveInteger positive{};
inline constexpr NonNegativeInteger non_negative{};

}  // namespace attr_checks

// An AttrUse for the member of `id`, made by the ATTR/REQUIRED entries of
// graph/ops.def.
template <AttrId id, class Check>
AttrUse make_attr_use(bool required, typename AttrTraits<id>::type op_default, Check check) {
  constexpr auto member = AttrTraits<id>::member;
  return AttrUse{id, required, Check::expects, [op_default](Attrs& a) { a.*member = op_default; },
                 [check](const Attrs& a) -> std::optional<std::string> { return check(a.*member); }};
}

}  // namespace kiln
