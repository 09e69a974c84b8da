#pragma once
#include <span>
#include <vector>

#include "graph/node.hpp"
#include "graph/op.hpp"

// Shape rules named in graph/ops.def. Each infers the output type of an op
// from its operands or throws kiln::Error with "expected ..., found ...".
namespace kiln::shape_rules {

#define KILN_SHAPE_RULE(rule) \
  TensorType rule(std::span<const TensorType> in, const Attrs& attrs, const TensorType& self);
KILN_SHAPE_RULE(float_leaf)
KILN_SHAPE_RULE(labels_leaf)
KILN_SHAPE_RULE(constant_leaf)
KILN_SHAPE_RULE(unary)
KILN_SHAPE_RULE(broadcast_binary)
KILN_SHAPE_RULE(same_or_scalar_binary)
KILN_SHAPE_RULE(reduce)
KILN_SHAPE_RULE(matmul)
KILN_SHAPE_RULE(dot)
KILN_SHAPE_RULE(softmax)
KILN_SHAPE_RULE(classification_loss)
KILN_SHAPE_RULE(l2)
KILN_SHAPE_RULE(reshape)
KILN_SHAPE_RULE(affine)
KILN_SHAPE_RULE(add_n)
KILN_SHAPE_RULE(expand)
KILN_SHAPE_RULE(like_first_same_second)
KILN_SHAPE_RULE(classification_loss_grad)
KILN_SHAPE_RULE(same_as_first)
KILN_SHAPE_RULE(step_count)
KILN_SHAPE_RULE(adam_update)
KILN_SHAPE_RULE(matmul_update)
KILN_SHAPE_RULE(allreduce_start)
KILN_SHAPE_RULE(allreduce_slice)
// get_output is the one rule that sees more than its operand: `in` holds
// every output of the multi-output node it reads (Graph supplies them), and
// it yields in[attrs.index].
KILN_SHAPE_RULE(get_output)
#undef KILN_SHAPE_RULE

// The types of outputs 1, 2, ... of `op` given its operands (already checked
// by the op's rule, which yields output 0); empty for single-output ops. A
// multi-output op is listed here and nowhere else in graph/.
std::vector<TensorType> extra_outputs(OpKind op, std::span<const TensorType> in, const Attrs& attrs);

// Normalises a possibly negative axis against `rank`; throws when out of range.
int normalize_axis(int axis, std::size_t rank);

// The shape `dims` (reshape's attribute: 0 keeps the dimension of `from` at
// that position, one -1 is inferred) resolves to for an operand of shape
// `from`; throws kiln::Error naming both when they do not fit.
Shape resolve_reshape(const Shape& from, const std::vector<std::int64_t>& dims);

// True when `b` may be broadcast against `a` in add/sub/mul: equal shapes, a
// scalar, or a suffix of a's dimensions (a bias vector over rows).
bool broadcastable(const Shape& a, const Shape& b);

}  // namespace kiln::shape_rules
