#include "graph/shape_rules.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include "graph/error.hpp"

namespace kiln::shape_rules {
namespace {

void require_float(const TensorType& t, const char* which) {
  if (!is_float(t.dtype))
    throw Error(std::string("expected ") + which + " to be f32 or f64, found " + std::string(dtype_name(t.dtype)));
}

void require_same_dtype(const TensorType& a, const TensorType& b) {
  if (a.dtype != b.dtype)
    throw Error("operand dtypes differ: expected equal, found " + std::string(dtype_name(a.dtype)) + " and " +
                std::string(dtype_name(b.dtype)));
}

void require_rank(const TensorType& t, std::size_t rank, const char* which) {
  if (t.shape.rank() != rank)
    throw Error(std::string("expected ") + which + " of rank " + std::to_string(rank) + ", found shape " +
                t.shape.str());
}

void require_positive(const Shape& s) {
  for (auto d : s.dims())
    if (d <= 0) throw Error("expected positive dimensions, found shape " + s.str());
  (void)s.numel();  // rejects element counts that overflow
}

// Labels are class ids [N] (i32) or one-hot rows [N, C] in the logits' dtype.
void check_targets(const TensorType& z, const TensorType& y) {
  require_rank(z, 2, "scores");
  require_float(z, "scores");
  if (y.dtype == DType::i32) {
    if (y.shape.rank() != 1 || y.shape[0] != z.shape[0])
      throw Error("expected labels of shape [" + std::to_string(z.shape[0]) + "], found " + y.shape.str());
  } else {
    require_same_dtype(z, y);
    if (y.shape != z.shape) throw Error("expected one-hot targets of shape " + z.shape.str() + ", found " + y.shape.str());
  }
}

}  // namespace

int normalize_axis(int axis, std::size_t rank) {
  int r = static_cast<int>(rank);
  int a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r)
    throw Error("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return a;
}

bool broadcastable(const Shape& a, const Shape& b) {
  if (b.rank() > a.rank()) return false;
  return std::equal(b.dims().rbegin(), b.dims().rend(), a.dims().rbegin());
}

TensorType float_leaf(std::span<const TensorType>, const Attrs&, const TensorType& self) {
  require_positive(self.shape);
  require_float(self, "the dtype");
  return self;
}

TensorType labels_leaf(std::span<const TensorType>, const Attrs& attrs, const TensorType& self) {
  require_positive(self.shape);
  if (self.shape.rank() != 1) throw Error("expected labels of rank 1 (one class id per row), found shape " + self.shape.str());
  if (attrs.classes <= 0)
    throw Error("field 'classes': expected a positive number of classes, found " + std::to_string(attrs.classes));
  return {self.shape, DType::i32};
}

TensorType constant_leaf(std::span<const TensorType>, const Attrs& attrs, const TensorType& self) {
  require_positive(self.shape);
  require_float(self, "the dtype");
  auto n = static_cast<std::size_t>(self.shape.numel());
  if (attrs.value.size() != n)
    throw Error("field 'value': expected " + std::to_string(n) + " numbers for shape " + self.shape.str() + ", found " +
                std::to_string(attrs.value.size()));
  return self;
}

TensorType unary(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_float(in[0], "the input");
  return in[0];
}

TensorType broadcast_binary(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_float(in[0], "the first input");
  require_same_dtype(in[0], in[1]);
  if (!broadcastable(in[0].shape, in[1].shape))
    throw Error("expected the second shape to equal the first, be a scalar or a trailing part of it, found " +
                in[0].shape.str() + " and " + in[1].shape.str());
  return in[0];
}

TensorType same_or_scalar_binary(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_float(in[0], "the first input");
  require_same_dtype(in[0], in[1]);
  if (in[1].shape != in[0].shape && !in[1].shape.is_scalar())
    throw Error("expected the second shape to equal the first or be a scalar, found " + in[0].shape.str() + " and " +
                in[1].shape.str());
  return in[0];
}

TensorType reduce(std::span<const TensorType> in, const Attrs& attrs, const TensorType&) {
  require_float(in[0], "the input");
  if (!attrs.axis) return {Shape{}, in[0].dtype};
  int axis = normalize_axis(*attrs.axis, in[0].shape.rank());
  std::vector<std::int64_t> dims = in[0].shape.dims();
  dims.erase(dims.begin() + axis);
  return {Shape(std::move(dims)), in[0].dtype};
}

TensorType matmul(std::span<const TensorType> in, const Attrs& attrs, const TensorType&) {
  require_rank(in[0], 2, "the first input");
  require_rank(in[1], 2, "the second input");
  require_float(in[0], "the first input");
  require_same_dtype(in[0], in[1]);
  const Shape& a = in[0].shape;
  const Shape& b = in[1].shape;
  std::int64_t m = attrs.transpose_a ? a[1] : a[0];
  std::int64_t ka = attrs.transpose_a ? a[0] : a[1];
  std::int64_t kb = attrs.transpose_b ? b[1] : b[0];
  std::int64_t n = attrs.transpose_b ? b[0] : b[1];
  if (ka != kb)
    throw Error("inner dimensions differ: " + a.str() + (attrs.transpose_a ? "ᵀ" : "") + " x " + b.str() +
                (attrs.transpose_b ? "ᵀ" : "") + ", expected " + std::to_string(ka) + " == " + std::to_string(kb));
  return {Shape{m, n}, in[0].dtype};
}

TensorType dot(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_rank(in[0], 1, "the first input");
  require_float(in[0], "the first input");
  require_same_dtype(in[0], in[1]);
  if (in[1].shape != in[0].shape)
    throw Error("expected two vectors of one length, found " + in[0].shape.str() + " and " + in[1].shape.str());
  return {Shape{}, in[0].dtype};
}

TensorType softmax(std::span<const TensorType> in, const Attrs& attrs, const TensorType&) {
  require_float(in[0], "the input");
  if (in[0].shape.is_scalar()) throw Error("expected at least one dimension, found a scalar");
  if (attrs.axis) normalize_axis(*attrs.axis, in[0].shape.rank());
  return in[0];
}

TensorType classification_loss(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  check_targets(in[0], in[1]);
  return {Shape{}, in[0].dtype};
}

Shape resolve_reshape(const Shape& from, const std::vector<std::int64_t>& dims) {
  const std::string what = "cannot reshape " + from.str() + " to dims " + Shape(dims).str() + ": ";
  const std::int64_t count = from.numel();
  std::vector<std::int64_t> out = dims;
  std::optional<std::size_t> inferred;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::int64_t& d = out[i];
    if (d == -1) {
      if (inferred)
        throw Error(what + "expected at most one -1, found two (at positions " + std::to_string(*inferred) + " and " +
                    std::to_string(i) + ")");
      inferred = i;
      continue;
    }
    if (d < -1)
      throw Error(what + "expected dimensions > 0, 0 (keep) or -1 (infer), found " + std::to_string(d) +
                  " at position " + std::to_string(i));
    if (d == 0) {
      if (i >= from.rank())
        throw Error(what + "0 at position " + std::to_string(i) + " keeps the operand's dimension there, but it has " +
                    "rank " + std::to_string(from.rank()));
      d = from[i];
    }
    if (known > std::numeric_limits<std::int64_t>::max() / d)
      throw Error(what + "expected " + std::to_string(count) + " elements, found a product beyond 64 bits");
    known *= d;
  }
  if (inferred) {
    if (count % known != 0)
      throw Error(what + "the -1 cannot be inferred: " + std::to_string(count) + " elements are not a multiple of " +
                  std::to_string(known));
    out[*inferred] = count / known;
  } else if (known != count) {
    throw Error(what + "expected " + std::to_string(count) + " elements, found " + std::to_string(known));
  }
  return Shape(std::move(out));
}

TensorType reshape(std::span<const TensorType> in, const Attrs& attrs, const TensorType&) {
  require_float(in[0], "the input");
  return {resolve_reshape(in[0].shape, attrs.dims), in[0].dtype};
}

TensorType l2(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_float(in[0], "the input");
  return {Shape{}, in[0].dtype};
}

TensorType affine(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_rank(in[0], 2, "x");
  require_rank(in[1], 2, "W");
  require_rank(in[2], 1, "b");
  require_float(in[0], "x");
  require_same_dtype(in[0], in[1]);
  require_same_dtype(in[0], in[2]);
  const Shape& x = in[0].shape;
  const Shape& w = in[1].shape;
  if (x[1] != w[0])
    throw Error("inner dimensions differ: " + x.str() + " x " + w.str() + ", expected " + std::to_string(x[1]) +
                " == " + std::to_string(w[0]));
  if (in[2].shape[0] != w[1])
    throw Error("expected bias of shape [" + std::to_string(w[1]) + "], found " + in[2].shape.str());
  return {Shape{x[0], w[1]}, in[0].dtype};
}

TensorType add_n(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_float(in[0], "the first input");
  for (std::size_t k = 1; k < in.size(); ++k)
    if (!(in[k] == in[0]))
      throw Error("expected every input to be " + in[0].shape.str() + " " + std::string(dtype_name(in[0].dtype)) +
                  ", found " + in[k].shape.str() + " " + std::string(dtype_name(in[k].dtype)) + " at input " +
                  std::to_string(k));
  return in[0];
}

TensorType expand(std::span<const TensorType> in, const Attrs& attrs, const TensorType& self) {
  require_float(in[0], "the input");
  require_positive(self.shape);
  Shape reduced;
  if (attrs.axis) {
    int axis = normalize_axis(*attrs.axis, self.shape.rank());
    std::vector<std::int64_t> dims = self.shape.dims();
    dims.erase(dims.begin() + axis);
    reduced = Shape(std::move(dims));
  }
  if (in[0].shape != reduced)
    throw Error("expected an input of shape " + reduced.str() + " to expand to " + self.shape.str() + ", found " +
                in[0].shape.str());
  return {self.shape, in[0].dtype};
}

TensorType like_first_same_second(std::span<const TensorType> in, const Attrs& attrs, const TensorType&) {
  require_float(in[0], "the gradient");
  if (!(in[0] == in[1]))
    throw Error("expected both inputs to be " + in[0].shape.str() + " " + std::string(dtype_name(in[0].dtype)) +
                ", found " + in[1].shape.str() + " " + std::string(dtype_name(in[1].dtype)));
  if (attrs.axis) normalize_axis(*attrs.axis, in[0].shape.rank());
  return in[0];
}

TensorType classification_loss_grad(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  check_targets(in[0], in[1]);
  if (!in[2].shape.is_scalar() || in[2].dtype != in[0].dtype)
    throw Error("expected a scalar " + std::string(dtype_name(in[0].dtype)) + " incoming gradient, found " +
                in[2].shape.str() + " " + std::string(dtype_name(in[2].dtype)));
  return in[0];
}

TensorType same_as_first(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_float(in[0], "the updated tensor");
  for (std::size_t k = 1; k < in.size(); ++k)
    if (!(in[k] == in[0]))
      throw Error("expected input " + std::to_string(k) + " to be " + in[0].shape.str() + " " +
                  std::string(dtype_name(in[0].dtype)) + " like the updated tensor, found " + in[k].shape.str() + " " +
                  std::string(dtype_name(in[k].dtype)));
  return in[0];
}

TensorType step_count(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_float(in[0], "the step counter");
  if (!in[0].shape.is_scalar()) throw Error("expected a scalar step counter, found shape " + in[0].shape.str());
  return in[0];
}

TensorType adam_update(std::span<const TensorType> in, const Attrs& attrs, const TensorType& self) {
  TensorType p = same_as_first(in.first(3), attrs, self);
  step_count(in.subspan(3, 1), attrs, self);
  require_same_dtype(in[0], in[3]);
  return p;
}

// The param takes the product's place as the GEMM's C, so the two must agree
// exactly: a mismatch would make the GEMM write outside the param.
TensorType matmul_update(std::span<const TensorType> in, const Attrs& attrs, const TensorType& self) {
  require_float(in[0], "the updated tensor");
  TensorType product = matmul(in.subspan(1, 2), attrs, self);
  if (!(product == in[0]))
    throw Error("expected the product to be " + in[0].shape.str() + " " + std::string(dtype_name(in[0].dtype)) +
                " like the updated tensor, found " + product.shape.str() + " " +
                std::string(dtype_name(product.dtype)));
  return in[0];
}

TensorType allreduce_start(std::span<const TensorType> in, const Attrs&, const TensorType&) {
  require_float(in[0], "the gradient");
  if (in.size() == 1) return in[0];
  std::int64_t total = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    if (in[k].dtype != in[0].dtype)
      throw Error("expected every gradient to be " + std::string(dtype_name(in[0].dtype)) + ", found " +
                  std::string(dtype_name(in[k].dtype)) + " at input " + std::to_string(k));
    total += in[k].shape.numel();
  }
  return {Shape{total}, in[0].dtype};
}

TensorType allreduce_slice(std::span<const TensorType> in, const Attrs& attrs, const TensorType& self) {
  require_float(in[0], "the reduced bucket");
  require_positive(self.shape);
  const std::int64_t available = in[0].shape.numel();
  if (attrs.offset < 0 || attrs.offset + self.shape.numel() > available)
    throw Error("expected " + std::to_string(self.shape.numel()) + " elements from offset " +
                std::to_string(attrs.offset) + " to lie within the bucket's " + std::to_string(available));
  return {self.shape, in[0].dtype};
}

TensorType get_output(std::span<const TensorType> in, const Attrs& attrs, const TensorType&) {
  if (in.size() < 2) throw Error("expected an input with several outputs, found one with a single output");
  if (attrs.index < 1 || static_cast<std::size_t>(attrs.index) >= in.size())
    throw Error("expected an output index in [1, " + std::to_string(in.size()) + "), found " +
                std::to_string(attrs.index));
  return in[static_cast<std::size_t>(attrs.index)];
}

// The one multi-output op so far; a second one adds its outputs here.
std::vector<TensorType> extra_outputs(OpKind op, std::span<const TensorType> in, const Attrs&) {
  if (op == OpKind::softmax_cross_entropy_with_grad) return {in[0]};  // the gradient with respect to the logits
  return {};
}

}  // namespace kiln::shape_rules
