#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "graph/dtype.hpp"
#include "graph/shape.hpp"

namespace kiln {

// Which attributes an op accepts; readers reject any other field.
namespace Attr {
enum : std::uint32_t {
  kNone = 0,
  kShape = 1u << 0,       // explicit output shape (leaves, expand)
  kDtype = 1u << 1,       // explicit dtype (leaves other than labels)
  kClasses = 1u << 2,     // labels
  kInit = 1u << 3,        // param
  kValue = 1u << 4,       // constant
  kAxis = 1u << 5,        // reductions, softmax family, expand
  kTransposes = 1u << 6,  // matmul: transpose_a, transpose_b
  kFactor = 1u << 7,      // scale
  kLr = 1u << 8,          // optimizer updates: learning rate
  kMomentum = 1u << 9,
  kBeta1 = 1u << 10,
  kBeta2 = 1u << 11,
  kEps = 1u << 12,
  kWeightDecay = 1u << 13,
  kIndex = 1u << 14,      // get_output: which output of its operand
  kOffset = 1u << 15,     // allreduce_slice: the first element it reads
};
}  // namespace Attr

enum class Category {
  leaf, elementwise, reduction, linalg, classification, regularisation, fused, gradient, update,
  projection,  // get_output: names output k >= 1 of a multi-output node
  collective,  // the data-parallel gradient reduction (passes/allreduce.hpp)
};

inline constexpr int kVariadic = -1;

enum class OpKind : std::uint8_t {
#define KILN_OP(name, arity, attrs, category, rule) name,
#include "graph/ops.def"
#undef KILN_OP
};

inline constexpr std::size_t kOpCount = 0
#define KILN_OP(name, arity, attrs, category, rule) +1
#include "graph/ops.def"
#undef KILN_OP
    ;

struct Attrs;

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
  std::uint32_t attrs;
  Category category;
  ShapeRule infer;

  bool accepts(std::uint32_t attr) const { return (attrs & attr) != 0; }
  bool is_leaf() const { return category == Category::leaf; }
};

const OpInfo& op_info(OpKind op);
std::optional<OpKind> find_op(std::string_view name);
inline std::string_view op_name(OpKind op) { return op_info(op).name; }
std::string_view category_name(Category c);

}  // namespace kiln
