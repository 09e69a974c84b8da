#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.hpp"

namespace kiln {

class Builder;

// A handle to a node being built: what the free functions and operators below
// take and return. Cheap to copy; valid while its Builder lives.
class Value {
 public:
  Value() = default;
  Value(Builder* b, NodeId id) : b_(b), id_(id) {}

  Builder& builder() const { return *b_; }
  NodeId id() const { return id_; }
  const Node& node() const;
  const Shape& shape() const { return node().shape; }
  const std::string& name() const { return node().name; }

 private:
  Builder* b_ = nullptr;
  NodeId id_ = 0;
};

// Builds a Graph with readable code:
//
//   kiln::Builder g;
//   auto x = g.input("x", {32, 784});
//   auto y = g.labels("y", 32, 10);
//   auto h = relu(dense(g, x, 100, "fc1"));
//   g.set_loss(softmax_cross_entropy(dense(g, h, 10, "fc2"), y, "loss"));
//   kiln::Graph graph = g.graph();
//
// Nodes get the name passed to them or, when none is given, the op name under
// the current scope ("fc1/matmul"), made unique with a suffix.
class Builder {
 public:
  Value input(std::string name, Shape shape, DType dtype = DType::f32);
  Value labels(std::string name, std::int64_t rows, std::int64_t classes);
  Value param(std::string name, Shape shape, Init init = Init::zeros(), DType dtype = DType::f32);
  Value constant(std::string name, Shape shape, std::vector<double> values, DType dtype = DType::f32);
  Value scalar(double v, DType dtype = DType::f32);

  // Adds any op node; the free functions below are shorthands for this.
  // Without `attrs`, the node gets the op's defaults (graph/ops.def).
  Value op(OpKind op, const std::vector<Value>& inputs, std::optional<Attrs> attrs = std::nullopt,
           std::string name = {});
  // An op that declares its output shape (and dtype) explicitly, such as
  // expand or allreduce_slice (FIELD(shape) in graph/ops.def).
  Value op_with_type(OpKind op, const std::vector<Value>& inputs, Shape shape, DType dtype, Attrs attrs,
                     std::string name = {});

  void set_loss(Value loss) { graph_.set_loss(loss.id()); }

  // Names created while the returned guard lives are prefixed "scope/".
  class ScopeGuard {
   public:
    explicit ScopeGuard(Builder& b) : b_(&b) {}
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    ~ScopeGuard() { b_->scopes_.pop_back(); }

   private:
    Builder* b_;
  };
  [[nodiscard]] ScopeGuard scope(std::string name);

  // The name `base` would get now: scoped and made unique.
  std::string name_for(std::string_view base) const;

  const Graph& graph() const { return graph_; }
  Graph& graph() { return graph_; }

 private:
  Value wrap(NodeId id) { return Value(this, id); }
  std::vector<NodeId> operand_ids(OpKind op, const std::vector<Value>& inputs) const;

  Graph graph_;
  std::vector<std::string> scopes_;
};

// Elementwise. add/sub/mul broadcast a scalar or trailing vector in `b`.
Value add(Value a, Value b, std::string name = {});
Value sub(Value a, Value b, std::string name = {});
Value mul(Value a, Value b, std::string name = {});
Value div(Value a, Value b, std::string name = {});
Value scale(Value x, double factor, std::string name = {});
// One function per elementwise unary op (neg, relu, sigmoid, tanh, exp, log,
// square, ...), generated from graph/ops.def's KILN_POINTWISE lines.
#define KILN_POINTWISE(op, onnx) Value op(Value x, std::string name = {});
#define KILN_OP(...)
#include "graph/ops.def"
#undef KILN_OP
#undef KILN_POINTWISE

// Reductions over `axis`, or over everything when it is absent.
Value sum(Value x, std::optional<int> axis = std::nullopt, std::string name = {});
Value mean(Value x, std::optional<int> axis = std::nullopt, std::string name = {});

Value matmul(Value a, Value b, bool transpose_a = false, bool transpose_b = false, std::string name = {});
Value dot(Value a, Value b, std::string name = {});

Value softmax(Value x, std::optional<int> axis = std::nullopt, std::string name = {});
Value log_softmax(Value x, std::optional<int> axis = std::nullopt, std::string name = {});
// Mean over rows of -log p[label]; `targets` are labels or one-hot rows.
Value cross_entropy(Value probabilities, Value targets, std::string name = {});
// Numerically stable cross-entropy from logits.
Value softmax_cross_entropy(Value logits, Value targets, std::string name = {});
// 0.5 * sum of squares.
Value l2(Value x, std::string name = {});

// The same elements in row-major order under another shape. `dims` follows
// ONNX Reshape: 0 keeps x's dimension at that position, one -1 is inferred
// from the element count, so reshape(x, {0, -1}) flattens [N, 1, 8, 8] to
// [N, 64] whatever N is.
Value reshape(Value x, std::vector<std::int64_t> dims, std::string name = {});

Value affine(Value x, Value w, Value b, std::string name = {});
Value affine_relu(Value x, Value w, Value b, std::string name = {});

Value operator+(Value a, Value b);
Value operator-(Value a, Value b);
Value operator*(Value a, Value b);
Value operator/(Value a, Value b);
Value operator-(Value x);
Value operator*(double factor, Value x);
Value operator*(Value x, double factor);

}  // namespace kiln
