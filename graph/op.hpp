#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "graph/attrs.hpp"
#include "graph/dtype.hpp"
#include "graph/shape.hpp"

namespace kiln {

enum class Category {
  leaf,
  unary,        // elementwise unary with a scalar function (KILN_POINTWISE, graph/pointwise.hpp)
  elementwise,  // the other elementwise ops: broadcasting binaries, scale
  reduction, linalg, classification, regularisation, fused, gradient, update,
  projection,  // get_output: names output k >= 1 of a multi-output node
  layout,      // reshape: the operand's elements, in order, under another shape
  collective,  // the data-parallel gradient reduction (passes/allreduce.hpp)
};

inline constexpr int kVariadic = -1;

enum class OpKind : std::uint8_t {
#define KILN_OP(name, arity, attrs, category, rule, onnx) name,
#include "graph/ops.def"
#undef KILN_OP
};

inline constexpr std::size_t kOpCount = 0
#define KILN_OP(name, arity, attrs, category, rule, onnx) +1
#include "graph/ops.def"
#undef KILN_OP
    ;

// What a shape rule sees of one operand.
struct TensorType {
  Shape shape;
  DType dtype = DType::f32;
  friend bool operator==(const TensorType&, const TensorType&) = default;
};

// Infers the output type from the operands and attributes, or throws
// kiln::Error saying what was expected and what was found. `self` carries the
// explicit shape/dtype of leaves and expand.
using ShapeRule = TensorType (*)(std::span<const TensorType> in, const Attrs& attrs, const TensorType& self);

struct OpInfo {
  std::string_view name;
  int arity;
  std::uint64_t attr_mask;  // bit k: declares AttrId k
  Category category;
  ShapeRule infer;
  std::string_view onnx_name;  // "" when no ONNX operator imports as this op

  bool accepts(AttrId a) const { return (attr_mask >> static_cast<unsigned>(a)) & 1u; }
  bool is_leaf() const { return category == Category::leaf; }
};

const OpInfo& op_info(OpKind op);
std::optional<OpKind> find_op(std::string_view name);
inline std::string_view op_name(OpKind op) { return op_info(op).name; }
std::string_view category_name(Category c);

// The op's attributes as graph/ops.def declares them, in declaration order
// (the order files write them).
std::span<const AttrUse> attr_uses(OpKind op);
// Attrs holding the op's own defaults for the attributes it declares (and the
// kind defaults of graph/attrs.def for the rest): where every node of this op
// starts, in files, the builders and the passes.
const Attrs& defaults_for(OpKind op);
// The first attribute of `attrs` the op declares that fails its check, with
// what was expected and found; nullopt when all pass.
struct AttrProblem {
  AttrId id;
  std::string message;
};
std::optional<AttrProblem> check_attrs(OpKind op, const Attrs& attrs);
// True when the declared attribute `id` of `attrs` holds the op's default.
bool is_default_value(OpKind op, AttrId id, const Attrs& attrs);

}  // namespace kiln
