// One function per ONNX op, each building the kiln ops that compute the same
// thing; a value table carries ONNX value names to kiln values (float
// tensors) or to the INT64 constants that only Reshape's shape operand may
// read.
#include "frontends/onnx/map_ops.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "graph/error.hpp"

namespace kiln::onnx {
namespace {

constexpr std::int64_t kMinOpset = 9, kMaxOpset = 17;

class Mapper;
using OpMapper = void (*)(Mapper&, const NodeProto&);

[[noreturn]] void refuse(const Model& model, const NodeProto& node, const std::string& why) {
  throw Error(model.source + ": " + describe_node(node) + ", opset " + std::to_string(model.opset) + ": " + why);
}

std::vector<double> to_doubles(const std::vector<float>& values) { return {values.begin(), values.end()}; }

class Mapper {
 public:
  Mapper(const Model& model, Builder& b, const MapOptions& options) : model_(model), b_(b), options_(options) {
    for (const TensorValue& t : model.initializers) initializers_.emplace(t.name, &t);
  }

  const Model& model() const { return model_; }
  Builder& builder() { return b_; }

  void add_inputs() {
    for (const ValueInfo& in : model_.inputs) {
      const std::string what = model_.source + ": graph input '" + in.name + "'";
      if (!in.has_shape) throw Error(what + " has no shape; kiln needs every input's shape");
      std::vector<std::int64_t> dims;
      for (std::size_t i = 0; i < in.dims.size(); ++i) {
        if (i == 0 && options_.batch) dims.push_back(*options_.batch);
        else if (in.dims[i]) dims.push_back(*in.dims[i]);
        else if (i == 0) dims.push_back(1);
        else
          throw Error(what + ": dimension " + std::to_string(i) +
                      " is symbolic; kiln fixes only the leading (batch) dimension (--batch)");
      }
      floats_[in.name] = b_.input(kiln_name(in.name), Shape(dims));
    }
  }

  // The float value `name` names: an input, a node's output, or an
  // initializer (whose param is made on first use, so unused ones vanish).
  Value value(const NodeProto& node, const std::string& name) {
    if (auto it = floats_.find(name); it != floats_.end()) return it->second;
    if (auto it = initializers_.find(name); it != initializers_.end()) {
      const TensorValue& t = *it->second;
      if (t.type != TensorValue::Type::float32)
        refuse(model_, node, "operand '" + name + "' is an INT64 tensor; kiln computes in FLOAT");
      Value p = b_.param(kiln_name(t.name), Shape(t.dims),
                         Init::from_values(to_doubles(t.floats), options_.params_file, t.name));
      floats_[name] = p;
      return p;
    }
    if (ints_.count(name)) refuse(model_, node, "operand '" + name + "' is an INT64 tensor; kiln computes in FLOAT");
    refuse(model_, node, "operand '" + name + "' is not defined");  // graph_order rules this out
  }

  // A constant INT64 operand (an initializer or a Constant node's output).
  const std::vector<std::int64_t>& constant_ints(const NodeProto& node, const std::string& name) {
    if (auto it = ints_.find(name); it != ints_.end()) return it->second;
    if (auto it = initializers_.find(name); it != initializers_.end() && it->second->type == TensorValue::Type::int64)
      return it->second->ints;
    refuse(model_, node, "operand '" + name + "' must be a constant INT64 tensor (an initializer or a Constant)");
  }

  Value operand(const NodeProto& node, std::size_t index) {
    if (index >= node.inputs.size() || node.inputs[index].empty())
      refuse(model_, node, "operand " + std::to_string(index) + " is missing");
    return value(node, node.inputs[index]);
  }
  bool has_operand(const NodeProto& node, std::size_t index) const {
    return index < node.inputs.size() && !node.inputs[index].empty();
  }

  void define(const NodeProto& node, Value v) { floats_[node.outputs.front()] = v; }
  void define_ints(const NodeProto& node, std::vector<std::int64_t> values) {
    ints_[node.outputs.front()] = std::move(values);
  }

  // The kiln name of the node computing `node`'s output (`suffix` for an
  // intermediate), made unique.
  std::string name_for(const NodeProto& node, const std::string& suffix = {}) {
    std::string base = kiln_name(node.name.empty() ? node.outputs.front() : node.name);
    if (!suffix.empty()) base += "/" + suffix;
    return b_.graph().unique_name(base);
  }

  std::int64_t int_attribute(const NodeProto& node, const char* name, std::int64_t fallback) {
    const Attribute* a = node.attribute(name);
    if (!a) return fallback;
    if (a->type != Attribute::Type::int64) refuse(model_, node, std::string("attribute '") + name + "' is not an int");
    return a->i;
  }
  double float_attribute(const NodeProto& node, const char* name, double fallback) {
    const Attribute* a = node.attribute(name);
    if (!a) return fallback;
    if (a->type != Attribute::Type::float32) refuse(model_, node, std::string("attribute '") + name + "' is not a float");
    return a->f;
  }

  std::vector<Value> outputs() {
    std::vector<Value> out;
    for (const ValueInfo& o : model_.outputs) {
      auto init = initializers_.find(o.name);
      const bool float_initializer = init != initializers_.end() && init->second->type == TensorValue::Type::float32;
      if (!floats_.count(o.name) && !float_initializer)
        throw Error(model_.source + ": graph output '" + o.name + "' is not a FLOAT tensor kiln computes");
      out.push_back(value(NodeProto{}, o.name));
    }
    return out;
  }

 private:
  const Model& model_;
  Builder& b_;
  const MapOptions& options_;
  std::unordered_map<std::string, const TensorValue*> initializers_;
  std::unordered_map<std::string, Value> floats_;
  std::unordered_map<std::string, std::vector<std::int64_t>> ints_;
};

// Y = alpha·op(A)·op(B) + beta·C. transB keeps B in its [out, in] layout:
// matmul reads it transposed, no copy is made.
void map_gemm(Mapper& m, const NodeProto& node) {
  const bool trans_a = m.int_attribute(node, "transA", 0) != 0;
  const bool trans_b = m.int_attribute(node, "transB", 0) != 0;
  const double alpha = m.float_attribute(node, "alpha", 1.0), beta = m.float_attribute(node, "beta", 1.0);
  const bool has_bias = m.has_operand(node, 2);
  Value y = matmul(m.operand(node, 0), m.operand(node, 1), trans_a, trans_b,
                   has_bias || alpha != 1.0 ? m.name_for(node, "matmul") : m.name_for(node));
  if (alpha != 1.0) y = scale(y, alpha, has_bias ? m.name_for(node, "alpha") : m.name_for(node));
  if (has_bias) {
    Value c = m.operand(node, 2);
    if (beta != 1.0) c = scale(c, beta, m.name_for(node, "beta"));
    y = add(y, c, m.name_for(node));
  }
  m.define(node, y);
}

void map_matmul(Mapper& m, const NodeProto& node) {
  m.define(node, matmul(m.operand(node, 0), m.operand(node, 1), false, false, m.name_for(node)));
}

// kiln broadcasts only its second operand (a scalar or a trailing part of
// the first's shape); ONNX broadcasts either. A commutative op swaps its
// operands; a - b with the small one first is -(b - a).
enum class Binary { add, sub, mul };
bool broadcasts_onto(const Shape& small, const Shape& big) {
  if (small.rank() > big.rank()) return false;
  return std::equal(small.dims().rbegin(), small.dims().rend(), big.dims().rbegin());
}
template <Binary kOp>
void map_binary(Mapper& m, const NodeProto& node) {
  Value a = m.operand(node, 0), b = m.operand(node, 1);
  const auto apply = [&](Value x, Value y, std::string name) {
    if constexpr (kOp == Binary::add) return add(x, y, std::move(name));
    else if constexpr (kOp == Binary::sub) return sub(x, y, std::move(name));
    else return mul(x, y, std::move(name));
  };
  if (broadcasts_onto(b.shape(), a.shape())) {
    m.define(node, apply(a, b, m.name_for(node)));
  } else if (broadcasts_onto(a.shape(), b.shape())) {
    if constexpr (kOp == Binary::sub) m.define(node, neg(apply(b, a, m.name_for(node, "reversed")), m.name_for(node)));
    else m.define(node, apply(b, a, m.name_for(node)));
  } else {
    refuse(m.model(), node,
           "operands " + a.shape().str() + " and " + b.shape().str() +
               ": kiln broadcasts only equal shapes, a scalar, or a trailing part of the other operand's shape");
  }
}

// kiln's softmax runs over the last axis. Before opset 13 ONNX flattens the
// input to 2-D at `axis` (default 1) and normalises over everything from
// `axis` on; from 13 it normalises over `axis` (default -1). Either equals
// the last-axis softmax when every dimension between `axis` and the last is 1
// — except the leading (batch) one, which a run may change.
template <bool kLog>
void map_softmax(Mapper& m, const NodeProto& node) {
  Value x = m.operand(node, 0);
  const auto rank = static_cast<std::int64_t>(x.shape().rank());
  std::int64_t axis = m.int_attribute(node, "axis", m.model().opset < 13 ? 1 : -1);
  if (axis < -rank || axis >= rank)
    refuse(m.model(), node, "axis " + std::to_string(axis) + " is outside the input's rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  for (std::int64_t d = axis; d + 1 < rank; ++d)
    if (d == 0 || x.shape()[static_cast<std::size_t>(d)] != 1)
      refuse(m.model(), node,
             "axis " + std::to_string(axis) + " on " + x.shape().str() +
                 " is not the last axis; kiln's softmax normalises over the last axis only");
  m.define(node, kLog ? log_softmax(x, std::nullopt, m.name_for(node)) : softmax(x, std::nullopt, m.name_for(node)));
}

// Flatten(axis) to [prod(dims before axis), prod(dims from axis)]. The
// leading dimension stays symbolic (0 copies the batch, -1 infers it), so a
// run can change the batch.
void map_flatten(Mapper& m, const NodeProto& node) {
  Value x = m.operand(node, 0);
  const auto rank = static_cast<std::int64_t>(x.shape().rank());
  std::int64_t axis = m.int_attribute(node, "axis", 1);
  if (axis < -rank || axis > rank)
    refuse(m.model(), node, "axis " + std::to_string(axis) + " is outside the input's rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  if (rank == 2 && axis == 1) {  // already [rows, columns]
    m.define(node, x);
    return;
  }
  std::int64_t inner = 1;
  for (std::int64_t d = axis; d < rank; ++d) inner *= x.shape()[static_cast<std::size_t>(d)];
  std::vector<std::int64_t> dims;
  if (axis == 0) dims = {1, -1};
  else if (axis == 1) dims = {0, -1};
  else dims = {-1, inner};
  m.define(node, reshape(x, dims, m.name_for(node)));
}

void map_reshape(Mapper& m, const NodeProto& node) {
  Value x = m.operand(node, 0);
  if (!m.has_operand(node, 1)) refuse(m.model(), node, "the shape operand is missing");
  std::vector<std::int64_t> dims = m.constant_ints(node, node.inputs[1]);
  if (m.int_attribute(node, "allowzero", 0) != 0 && std::count(dims.begin(), dims.end(), 0) > 0)
    refuse(m.model(), node, "allowzero=1 with a 0 in the shape (an empty tensor): kiln has no empty tensors");
  m.define(node, reshape(x, std::move(dims), m.name_for(node)));
}

void map_identity(Mapper& m, const NodeProto& node) { m.define(node, m.operand(node, 0)); }

// A Constant's value: a FLOAT tensor becomes a kiln constant; an INT64 one
// (a Reshape's shape) stays in the importer.
void map_constant(Mapper& m, const NodeProto& node) {
  if (node.attributes.size() != 1) refuse(m.model(), node, "expected exactly one value attribute");
  const Attribute& a = node.attributes.front();
  Builder& b = m.builder();
  if (a.name == "value" && a.type == Attribute::Type::tensor && a.t) {
    if (a.t->type == TensorValue::Type::int64) m.define_ints(node, a.t->ints);
    else m.define(node, b.constant(m.name_for(node), Shape(a.t->dims), to_doubles(a.t->floats)));
  } else if (a.name == "value_float" && a.type == Attribute::Type::float32) {
    m.define(node, b.constant(m.name_for(node), Shape{}, {a.f}));
  } else if (a.name == "value_floats" && a.type == Attribute::Type::floats) {
    if (a.floats.empty()) refuse(m.model(), node, "an empty value_floats: kiln has no empty tensors");
    m.define(node, b.constant(m.name_for(node), Shape{static_cast<std::int64_t>(a.floats.size())},
                              to_doubles(a.floats)));
  } else if (a.name == "value_int" && a.type == Attribute::Type::int64) {
    m.define_ints(node, {a.i});
  } else if (a.name == "value_ints" && a.type == Attribute::Type::ints) {
    m.define_ints(node, a.ints);
  } else {
    refuse(m.model(), node, "value attribute '" + a.name + "' is not supported (value, value_float(s), value_int(s) are)");
  }
}

// An elementwise unary op (KILN_POINTWISE in graph/ops.def) whose ONNX name
// is declared there: one node of that op.
template <OpKind kOp>
void map_pointwise(Mapper& m, const NodeProto& node) {
  m.define(node, m.builder().op(kOp, {m.operand(node, 0)}, std::nullopt, m.name_for(node)));
}

// The mappers written here, for ONNX operators that need more than one kiln
// node or a check of their attributes; op_mappers() adds the elementwise unary
// ones from graph/ops.def.
std::map<std::string, OpMapper> written_mappers() {
  return {
      {"Add", map_binary<Binary::add>},
      {"Constant", map_constant},
      {"Flatten", map_flatten},
      {"Gemm", map_gemm},
      {"Identity", map_identity},
      {"LogSoftmax", map_softmax<true>},
      {"MatMul", map_matmul},
      {"Mul", map_binary<Binary::mul>},
      {"Reshape", map_reshape},
      {"Softmax", map_softmax<false>},
      {"Sub", map_binary<Binary::sub>},
  };
}

// Every ONNX name graph/ops.def declares must import: a name without a
// mapper stops the first import (and so the ONNX tests) with this op named.
const std::map<std::string, OpMapper>& op_mappers() {
  static const std::map<std::string, OpMapper> table = [] {
    std::map<std::string, OpMapper> t = written_mappers();
    const std::pair<OpKind, OpMapper> pointwise[] = {
#define KILN_POINTWISE(name, onnx) {OpKind::name, &map_pointwise<OpKind::name>},
#define KILN_OP(...)
#include "graph/ops.def"
#undef KILN_OP
#undef KILN_POINTWISE
    };
    for (const auto& [op, mapper] : pointwise)
      if (!op_info(op).onnx_name.empty()) t.emplace(std::string(op_info(op).onnx_name), mapper);
    for (std::size_t k = 0; k < kOpCount; ++k) {
      const std::string_view onnx = op_info(static_cast<OpKind>(k)).onnx_name;
      if (!onnx.empty() && !t.count(std::string(onnx)))
        throw std::logic_error("graph/ops.def names ONNX operator " + std::string(onnx) + " for op " +
                               std::string(op_name(static_cast<OpKind>(k))) + ", but frontends/onnx has no mapper");
    }
    return t;
  }();
  return table;
}

}  // namespace

std::vector<std::string> supported_op_names() {
  std::vector<std::string> out;
  for (const auto& [name, mapper] : op_mappers()) out.push_back(name);
  return out;
}

std::string supported_ops() {
  std::string out;
  for (const std::string& name : supported_op_names()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string kiln_name(const std::string& onnx_name) {
  std::string out;
  for (char c : onnx_name) {
    if (out.empty() && c == '/') continue;
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                         c == '-' || c == '/' || c == '.';
    out += allowed ? c : '_';
  }
  return out.empty() ? std::string("unnamed") : out;
}

std::vector<Value> map_graph(const Model& model, Builder& b, const MapOptions& options) {
  if (model.opset < kMinOpset || model.opset > kMaxOpset)
    throw Error(model.source + ": opset " + std::to_string(model.opset) + ": kiln imports opsets " +
                std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset));
  Mapper m(model, b, options);
  m.add_inputs();
  for (const NodeProto& node : model.nodes) {
    auto it = op_mappers().find(node.op_type);
    if (!node.domain.empty() && node.domain != "ai.onnx") it = op_mappers().end();
    if (it == op_mappers().end())
      refuse(model, node,
             std::string("not supported") + (node.domain.empty() ? "" : " (domain '" + node.domain + "')") +
                 "; kiln imports " + supported_ops());
    try {
      it->second(m, node);
    } catch (const Error& e) {
      const std::string message = e.what();
      if (message.rfind(model.source + ": ", 0) == 0) throw;  // already names the ONNX node
      refuse(model, node, message);  // a shape kiln's op table rejects
    }
  }
  return m.outputs();
}

}  // namespace kiln::onnx
