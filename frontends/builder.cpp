#include "frontends/builder.hpp"

#include "graph/error.hpp"

namespace kiln {

const Node& Value::node() const {
  if (!b_) throw Error("use of an empty kiln::Value");
  return b_->graph()[id_];
}

Value Builder::input(std::string name, Shape shape, DType dtype) {
  return wrap(graph_.add_explicit(OpKind::input, {}, std::move(shape), dtype, {}, name_for(name)));
}

Value Builder::labels(std::string name, std::int64_t rows, std::int64_t classes) {
  Attrs a;
  a.classes = classes;
  return wrap(graph_.add_explicit(OpKind::labels, {}, Shape{rows}, DType::i32, std::move(a), name_for(name)));
}

Value Builder::param(std::string name, Shape shape, Init init, DType dtype) {
  Attrs a;
  a.init = init;
  return wrap(graph_.add_explicit(OpKind::param, {}, std::move(shape), dtype, std::move(a), name_for(name)));
}

Value Builder::constant(std::string name, Shape shape, std::vector<double> values, DType dtype) {
  Attrs a;
  a.value = std::move(values);
  return wrap(graph_.add_explicit(OpKind::constant, {}, std::move(shape), dtype, std::move(a), name_for(name)));
}

Value Builder::scalar(double v, DType dtype) { return constant("const", Shape{}, {v}, dtype); }

std::vector<NodeId> Builder::operand_ids(OpKind op, const std::vector<Value>& inputs) const {
  std::vector<NodeId> ids;
  ids.reserve(inputs.size());
  for (const Value& v : inputs) {
    if (&v.builder() != this) throw Error("an input of '" + std::string(op_name(op)) + "' belongs to another Builder");
    ids.push_back(v.id());
  }
  return ids;
}

Value Builder::op(OpKind op, const std::vector<Value>& inputs, std::optional<Attrs> attrs, std::string name) {
  std::vector<NodeId> ids = operand_ids(op, inputs);
  std::string n = name.empty() ? name_for(op_name(op)) : name_for(name);
  return wrap(graph_.add(op, ids, attrs ? std::move(*attrs) : defaults_for(op), std::move(n)));
}

Value Builder::op_with_type(OpKind op, const std::vector<Value>& inputs, Shape shape, DType dtype, Attrs attrs,
                            std::string name) {
  std::vector<NodeId> ids = operand_ids(op, inputs);
  std::string n = name.empty() ? name_for(op_name(op)) : name_for(name);
  return wrap(graph_.add_explicit(op, ids, std::move(shape), dtype, std::move(attrs), std::move(n)));
}

Builder::ScopeGuard Builder::scope(std::string name) {
  scopes_.push_back(std::move(name));
  return ScopeGuard(*this);
}

std::string Builder::name_for(std::string_view base) const {
  std::string full;
  for (const auto& s : scopes_) full += s + "/";
  full += base;
  return graph_.unique_name(full);
}

namespace {

Value unary(OpKind op, Value x, std::string name, std::optional<Attrs> attrs = std::nullopt) {
  return x.builder().op(op, {x}, std::move(attrs), std::move(name));
}

Value binary(OpKind op, Value a, Value b, std::string name, std::optional<Attrs> attrs = std::nullopt) {
  return a.builder().op(op, {a, b}, std::move(attrs), std::move(name));
}

Attrs axis_attr(std::optional<int> axis) {
  Attrs a;
  a.axis = axis;
  return a;
}

}  // namespace

Value add(Value a, Value b, std::string name) { return binary(OpKind::add, a, b, std::move(name)); }
Value sub(Value a, Value b, std::string name) { return binary(OpKind::sub, a, b, std::move(name)); }
Value mul(Value a, Value b, std::string name) { return binary(OpKind::mul, a, b, std::move(name)); }
Value div(Value a, Value b, std::string name) { return binary(OpKind::div, a, b, std::move(name)); }
Value scale(Value x, double factor, std::string name) {
  Attrs a;
  a.factor = factor;
  return unary(OpKind::scale, x, std::move(name), std::move(a));
}
#define KILN_POINTWISE(op, onnx) \
  Value op(Value x, std::string name) { return unary(OpKind::op, x, std::move(name)); }
#define KILN_OP(...)
#include "graph/ops.def"
#undef KILN_OP
#undef KILN_POINTWISE

Value sum(Value x, std::optional<int> axis, std::string name) {
  return unary(OpKind::sum, x, std::move(name), axis_attr(axis));
}
Value mean(Value x, std::optional<int> axis, std::string name) {
  return unary(OpKind::mean, x, std::move(name), axis_attr(axis));
}

Value matmul(Value a, Value b, bool transpose_a, bool transpose_b, std::string name) {
  Attrs attrs;
  attrs.transpose_a = transpose_a;
  attrs.transpose_b = transpose_b;
  return binary(OpKind::matmul, a, b, std::move(name), std::move(attrs));
}
Value dot(Value a, Value b, std::string name) { return binary(OpKind::dot, a, b, std::move(name)); }

Value softmax(Value x, std::optional<int> axis, std::string name) {
  return unary(OpKind::softmax, x, std::move(name), axis_attr(axis));
}
Value log_softmax(Value x, std::optional<int> axis, std::string name) {
  return unary(OpKind::log_softmax, x, std::move(name), axis_attr(axis));
}
Value cross_entropy(Value p, Value t, std::string name) { return binary(OpKind::cross_entropy, p, t, std::move(name)); }
Value softmax_cross_entropy(Value z, Value t, std::string name) {
  return binary(OpKind::softmax_cross_entropy, z, t, std::move(name));
}
Value l2(Value x, std::string name) { return unary(OpKind::l2, x, std::move(name)); }

Value reshape(Value x, std::vector<std::int64_t> dims, std::string name) {
  Attrs attrs;
  attrs.dims = std::move(dims);
  return unary(OpKind::reshape, x, std::move(name), std::move(attrs));
}

Value affine(Value x, Value w, Value b, std::string name) {
  return x.builder().op(OpKind::affine, {x, w, b}, std::nullopt, std::move(name));
}
Value affine_relu(Value x, Value w, Value b, std::string name) {
  return x.builder().op(OpKind::affine_relu, {x, w, b}, std::nullopt, std::move(name));
}

Value operator+(Value a, Value b) { return add(a, b); }
Value operator-(Value a, Value b) { return sub(a, b); }
Value operator*(Value a, Value b) { return mul(a, b); }
Value operator/(Value a, Value b) { return div(a, b); }
Value operator-(Value x) { return neg(x); }
Value operator*(double factor, Value x) { return scale(x, factor); }
Value operator*(Value x, double factor) { return scale(x, factor); }

}  // namespace kiln
