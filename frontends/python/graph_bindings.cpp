// Graph, its readers and writers, the seed models and the Builder.
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "arrays.hpp"
#include "bindings.hpp"
#include "frontends/builder.hpp"
#include "frontends/json.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "graph/dot.hpp"
#include "graph/error.hpp"
#include "passes/pipeline.hpp"
#include "runtime/plan.hpp"
#include "runtime/plan_dot.hpp"

namespace kiln::python {

namespace {

// A node being built, and the Builder it belongs to: Value holds a raw
// pointer to its Builder, so each Python value keeps that Builder alive.
struct PyValue {
  std::shared_ptr<Builder> owner;
  Value value;
};

using BuilderPtr = std::shared_ptr<Builder>;

PyValue wrap(const BuilderPtr& b, Value v) { return {b, v}; }
PyValue wrap(const PyValue& like, Value v) { return {like.owner, v}; }

std::string name_or_empty(const std::optional<std::string>& name) { return name.value_or(""); }

// `with builder.scope("fc1"):` names the nodes made inside "fc1/...".
class Scope {
 public:
  Scope(BuilderPtr b, std::string name) : b_(std::move(b)), name_(std::move(name)) {}
  void enter() { guard_.reset(new Builder::ScopeGuard(b_->scope(name_))); }
  void exit() { guard_.reset(); }

 private:
  BuilderPtr b_;
  std::string name_;
  std::unique_ptr<Builder::ScopeGuard> guard_;
};

// What `kiln dot --stage` draws, for the same stage names: the graph as
// built, after forward fusion, with its backward graph, or as the training
// step's plan (SGD for a graph with a loss, forward-only otherwise).
std::string graph_to_dot(const Graph& g, const std::string& stage, bool fuse, const std::string& title) {
  Graph shown;
  DotOptions options;
  if (stage == "input") {
    shown = g;
  } else if (stage == "fused" || stage == "backward") {
    CompileOptions compile;
    compile.fuse = fuse;
    compile.differentiate = stage == "backward";
    compile.simplify = stage == "backward";
    shown = run_pipeline(g, compile).graph;
  } else if (stage == "planned") {
    PlanOptions plan_options;
    plan_options.compile.fuse = fuse;
    plan_options.compile.differentiate = g.loss().has_value();
    if (g.loss()) plan_options.optimizer = OptimizerOptions{};
    Plan plan = compile(g, plan_options);
    options = planned_dot_options(plan);
    shown = plan.graph();
  } else {
    throw Error("Graph.to_dot: unknown stage '" + stage + "': expected input, fused, backward or planned");
  }
  if (!title.empty()) options.title = title + (options.title.empty() ? "" : ", " + options.title);
  return to_dot(shown, options);
}

py::dict node_dict(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  py::list inputs;
  for (NodeId in : g.inputs(id)) inputs.append(g.node(in).name);
  py::dict d;
  d["name"] = n.name;
  d["op"] = std::string(op_name(n.op));
  d["shape"] = py::tuple(py::cast(n.shape.dims()));
  d["dtype"] = std::string(dtype_name(n.dtype));
  d["role"] = std::string(role_name(n.role));
  d["inputs"] = inputs;
  return d;
}

void bind_init(py::module_& m) {
  py::class_<Init>(m, "Init", "How a param is initialised: Init.zeros(), Init.normal(std), Init.he(), ...")
      .def_static("zeros", &Init::zeros)
      .def_static("constant", &Init::constant, py::arg("value"))
      .def_static("normal", &Init::normal, py::arg("std"), py::arg("mean") = 0.0)
      .def_static("uniform", &Init::uniform, py::arg("low"), py::arg("high"))
      .def_static("xavier", &Init::xavier)
      .def_static("he", &Init::he)
      .def_property_readonly("kind", [](const Init& i) { return std::string(init_kind_name(i.kind)); })
      .def_readwrite("seed", &Init::seed)
      .def("__eq__", [](const Init& a, const Init& b) { return a == b; })
      .def("__repr__", [](const Init& i) { return "kiln.Init." + std::string(init_kind_name(i.kind)) + "(...)"; });
}

void bind_graph_class(py::module_& m) {
  py::class_<Graph>(m, "Graph", "A kiln graph: what load_graph, build_model and Builder.graph() return")
      .def("__len__", &Graph::size)
      .def_property_readonly("loss", [](const Graph& g) -> std::optional<std::string> {
        if (!g.loss()) return std::nullopt;
        return g.node(*g.loss()).name;
      })
      .def("nodes", [](const Graph& g) {
        py::list out;
        for (NodeId id : g.ids()) out.append(node_dict(g, id));
        return out;
      }, "Every node in creation order, as dicts: name, op, shape, dtype, role, inputs")
      .def("node", [](const Graph& g, const std::string& name) { return node_dict(g, g.at(name)); })
      .def("params", [](const Graph& g) {
        py::dict out;
        for (NodeId id : g.ids())
          if (g.node(id).op == OpKind::param) out[py::str(g.node(id).name)] = py::tuple(py::cast(g.node(id).shape.dims()));
        return out;
      }, "{param name: shape}")
      .def("summary", [](const Graph& g) { return model_summary(g); })
      .def("to_json", [](const Graph& g) { return graph_to_json(g); })
      .def("save", [](const Graph& g, const std::string& path) { save_graph_file(g, path); }, py::arg("path"))
      .def("to_dot", &graph_to_dot, py::arg("stage") = "input", py::arg("fuse") = true, py::arg("title") = "",
           "Graphviz DOT of the graph at one stage, as kiln dot --stage draws it: input, fused, backward or planned")
      .def("__repr__", [](const Graph& g) { return "<kiln.Graph with " + std::to_string(g.size()) + " nodes>"; });

  m.def("load_graph", [](const std::string& path) { return load_graph_file(path); }, py::arg("path"),
        "Reads a kiln graph file (JSON), or imports an ONNX model (.onnx) with a softmax cross-entropy loss");
  m.def("parse_graph", [](const std::string& text) { return parse_graph_json(text); }, py::arg("text"));
  m.def("model_names", &model_names);
  m.def("op_names", [] {
    std::vector<std::string> out;
    for (std::size_t k = 0; k < kOpCount; ++k) out.emplace_back(op_name(static_cast<OpKind>(k)));
    return out;
  }, "Every op kiln knows (graph/ops.def), in declaration order; each is a Builder method");
  m.def("build_model",
        [](const std::string& name, std::optional<std::int64_t> batch, std::optional<std::vector<std::int64_t>> hidden,
           const py::object& dtype, std::optional<double> weight_decay) {
          ModelOptions options;
          options.batch = batch.value_or(0);
          if (hidden) options.hidden = *hidden;
          options.dtype = dtype_arg(dtype);
          options.weight_decay = weight_decay.value_or(-1);
          return build_model(name, options);
        },
        py::arg("name"), py::arg("batch") = py::none(), py::arg("hidden") = py::none(), py::arg("dtype") = "f32",
        py::arg("weight_decay") = py::none(), "A seed model's forward graph: logreg, mlp, spiral-net, moons-net");
}

void bind_value(py::module_& m) {
  py::class_<PyValue>(m, "Value", "A node being built by a Builder")
      .def_property_readonly("name", [](const PyValue& v) { return v.value.name(); })
      .def_property_readonly("shape", [](const PyValue& v) { return py::tuple(py::cast(v.value.shape().dims())); })
      .def_property_readonly("dtype", [](const PyValue& v) { return std::string(dtype_name(v.value.node().dtype)); })
      .def_property_readonly("op", [](const PyValue& v) { return std::string(op_name(v.value.node().op)); })
      .def("__add__", [](const PyValue& a, const PyValue& b) { return wrap(a, a.value + b.value); })
      .def("__sub__", [](const PyValue& a, const PyValue& b) { return wrap(a, a.value - b.value); })
      .def("__mul__", [](const PyValue& a, const PyValue& b) { return wrap(a, a.value * b.value); })
      .def("__mul__", [](const PyValue& a, double f) { return wrap(a, a.value * f); })
      .def("__rmul__", [](const PyValue& a, double f) { return wrap(a, f * a.value); })
      .def("__truediv__", [](const PyValue& a, const PyValue& b) { return wrap(a, a.value / b.value); })
      .def("__neg__", [](const PyValue& a) { return wrap(a, -a.value); })
      .def("__matmul__", [](const PyValue& a, const PyValue& b) { return wrap(a, matmul(a.value, b.value)); })
      .def("__repr__", [](const PyValue& v) {
        return "<kiln.Value '" + v.value.name() + "' " + type_str(v.value.shape(), v.value.node().dtype) + ">";
      });
}

using Name = std::optional<std::string>;

// The operand names a generated method shows: x; a, b; a, b, c; ...
std::string operand_name(int arity, int k) {
  if (arity == 1) return "x";
  return std::string(1, static_cast<char>('a' + k));
}

std::vector<const AttrUse*> keyword_attrs(OpKind op) {
  std::vector<const AttrUse*> out;
  for (const AttrUse& use : attr_uses(op))
    if (!is_node_field(use.id)) out.push_back(&use);
  return out;
}

bool takes_shape(OpKind op) { return op_info(op).accepts(AttrId::shape); }

// "matmul(a, b, transpose_a=False, transpose_b=False, name=None)"
std::string builder_doc(OpKind op) {
  const OpInfo& info = op_info(op);
  std::string sig = std::string(info.name) + "(";
  if (info.arity == kVariadic) sig += "operands";
  for (int k = 0; k < info.arity; ++k) sig += (k ? ", " : "") + operand_name(info.arity, k);
  if (takes_shape(op)) sig += ", shape";
  for (const AttrUse* use : keyword_attrs(op)) {
    sig += ", " + std::string(attr_name(use->id));
    if (use->required) continue;
    visit_attr(use->id, defaults_for(op), [&](const auto& v) {
      sig += "=" + std::string(py::str(py::repr(py::cast(v))));
    });
  }
  sig += ", name=None)";
  return sig + "\n\nAdds a '" + std::string(info.name) +
         "' node (graph/ops.def); operands must come from this Builder.";
}

PyValue as_operand(const BuilderPtr& g, OpKind op, const py::handle& h, std::size_t k) {
  if (!py::isinstance<PyValue>(h))
    throw Error("Builder." + std::string(op_name(op)) + ": operand " + std::to_string(k) +
                " must be a kiln.Value, found " + py::repr(h).cast<std::string>());
  PyValue v = h.cast<PyValue>();
  if (v.owner != g)
    throw Error("Builder." + std::string(op_name(op)) + ": operand '" + v.value.name() +
                "' belongs to another Builder");
  return v;
}

void set_attr(OpKind op, const AttrUse& use, const py::handle& h, Attrs& attrs) {
  visit_attr(use.id, attrs, [&](auto& member) {
    using T = std::decay_t<decltype(member)>;
    try {
      if constexpr (std::is_same_v<T, std::optional<int>>)
        member = h.is_none() ? std::nullopt : std::optional<int>(h.cast<int>());
      else
        member = h.cast<T>();
    } catch (const py::cast_error&) {
      throw Error("Builder." + std::string(op_name(op)) + ": attribute '" + std::string(attr_name(use.id)) +
                  "': cannot use " + py::repr(h).cast<std::string>());
    }
  });
}

std::string as_name(OpKind op, const py::handle& h) {
  if (!py::isinstance<py::str>(h))
    throw Error("Builder." + std::string(op_name(op)) + ": name must be a str, found " +
                py::repr(h).cast<std::string>());
  return h.cast<std::string>();
}

// Python's own rules: operands positionally or by their names (x; a, b, ...),
// then the attributes positionally in declaration order or by keyword, then
// `name`; nothing given twice.
PyValue build_op(const BuilderPtr& g, OpKind op, const py::args& args, const py::kwargs& kwargs) {
  const OpInfo& info = op_info(op);
  const std::string method = "Builder." + std::string(info.name);
  const auto twice = [&](const std::string& what) { throw Error(method + ": " + what + " is given twice"); };
  std::vector<Value> operands;
  std::size_t next = 0;
  if (info.arity == kVariadic) {
    if (args.size() > 0 && (py::isinstance<py::list>(args[0]) || py::isinstance<py::tuple>(args[0]))) {
      for (const py::handle& h : args[0]) operands.push_back(as_operand(g, op, h, operands.size()).value);
      next = 1;
    } else {
      for (; next < args.size() && py::isinstance<PyValue>(args[next]); ++next)
        operands.push_back(as_operand(g, op, args[next], next).value);
    }
    if (operands.empty()) throw Error(method + ": expects at least 1 operand (a list of Values), found none");
  } else {
    const auto arity = static_cast<std::size_t>(info.arity);
    std::vector<std::optional<Value>> slots(arity);
    for (; next < args.size() && next < arity; ++next) slots[next] = as_operand(g, op, args[next], next).value;
    for (std::size_t k = 0; k < arity; ++k) {
      const std::string key = operand_name(info.arity, static_cast<int>(k));
      if (!kwargs.contains(key)) continue;
      if (slots[k]) twice("operand '" + key + "'");
      slots[k] = as_operand(g, op, kwargs[key.c_str()], k).value;
    }
    for (std::size_t k = 0; k < arity; ++k) {
      if (!slots[k])
        throw Error(method + ": missing operand '" + operand_name(info.arity, static_cast<int>(k)) + "' (expects " +
                    std::to_string(arity) + " operand" + (arity == 1 ? "" : "s") + ")");
      operands.push_back(*slots[k]);
    }
  }

  Attrs attrs = defaults_for(op);
  std::vector<const AttrUse*> uses = keyword_attrs(op);
  std::vector<bool> given(uses.size(), false);
  std::optional<std::string> name;
  for (std::size_t positional = 0; next < args.size(); ++next, ++positional) {
    if (positional < uses.size()) {
      set_attr(op, *uses[positional], args[next], attrs);
      given[positional] = true;
    } else if (positional == uses.size()) {
      if (!args[next].is_none()) name = as_name(op, args[next]);
    } else {
      throw Error(method + ": too many arguments; see help(kiln.Builder." + std::string(info.name) + ")");
    }
  }
  std::optional<Shape> shape;
  DType dtype = DType::f32;
  for (const auto& [key_handle, value] : kwargs) {
    const std::string key = key_handle.cast<std::string>();
    bool is_operand = false;
    for (int k = 0; k < info.arity; ++k) is_operand = is_operand || key == operand_name(info.arity, k);
    if (is_operand) continue;  // taken above
    if (key == "name") {
      if (name) twice("name");
      if (!value.is_none()) name = as_name(op, value);
      continue;
    }
    if (key == "shape" && takes_shape(op)) {
      shape = Shape(value.cast<std::vector<std::int64_t>>());
      continue;
    }
    if (key == "dtype" && info.accepts(AttrId::dtype)) {
      dtype = dtype_arg(py::reinterpret_borrow<py::object>(value));
      continue;
    }
    auto at = std::find_if(uses.begin(), uses.end(), [&](const AttrUse* u) { return attr_name(u->id) == key; });
    if (at == uses.end()) {
      std::string accepted;
      for (const AttrUse* u : uses) accepted += std::string(attr_name(u->id)) + ", ";
      throw Error(method + ": unknown keyword '" + key + "' (it accepts " + accepted +
                  (takes_shape(op) ? "shape, " : "") + "name)");
    }
    const auto k = static_cast<std::size_t>(at - uses.begin());
    if (given[k]) twice("attribute '" + key + "'");
    set_attr(op, **at, value, attrs);
    given[k] = true;
  }
  for (std::size_t k = 0; k < uses.size(); ++k)
    if (uses[k]->required && !given[k])
      throw Error(method + ": missing attribute '" + std::string(attr_name(uses[k]->id)) + "'");
  if (takes_shape(op)) {
    if (!shape) throw Error(method + ": missing keyword 'shape' (the output shape)");
    return wrap(g, g->op_with_type(op, operands, *shape, dtype, std::move(attrs), name.value_or("")));
  }
  return wrap(g, g->op(op, operands, std::move(attrs), name.value_or("")));
}

void bind_builder(py::module_& m) {
  py::class_<Scope>(m, "_Scope")
      .def("__enter__", [](Scope& s) { s.enter(); })
      .def("__exit__", [](Scope& s, py::args) { s.exit(); });

  py::class_<Builder, BuilderPtr> b(m, "Builder", "Builds a graph; its methods add nodes and return Values");
  b.def(py::init<>())
      .def("input", [](const BuilderPtr& g, std::string name, std::vector<std::int64_t> shape, const py::object& dtype) {
        return wrap(g, g->input(std::move(name), Shape(std::move(shape)), dtype_arg(dtype)));
      }, py::arg("name"), py::arg("shape"), py::arg("dtype") = "f32")
      .def("labels", [](const BuilderPtr& g, std::string name, std::int64_t rows, std::int64_t classes) {
        return wrap(g, g->labels(std::move(name), rows, classes));
      }, py::arg("name"), py::arg("rows"), py::arg("classes"))
      .def("param", [](const BuilderPtr& g, std::string name, std::vector<std::int64_t> shape, Init init,
                       const py::object& dtype) {
        return wrap(g, g->param(std::move(name), Shape(std::move(shape)), init, dtype_arg(dtype)));
      }, py::arg("name"), py::arg("shape"), py::arg("init") = Init::zeros(), py::arg("dtype") = "f32")
      .def("constant", [](const BuilderPtr& g, std::string name, std::vector<std::int64_t> shape,
                          std::vector<double> values, const py::object& dtype) {
        return wrap(g, g->constant(std::move(name), Shape(std::move(shape)), std::move(values), dtype_arg(dtype)));
      }, py::arg("name"), py::arg("shape"), py::arg("values"), py::arg("dtype") = "f32")
      .def("scalar", [](const BuilderPtr& g, double v, const py::object& dtype) {
        return wrap(g, g->scalar(v, dtype_arg(dtype)));
      }, py::arg("value"), py::arg("dtype") = "f32")
      .def("set_loss", [](const BuilderPtr& g, const PyValue& loss) {
        if (loss.owner != g) throw Error("Builder.set_loss: '" + loss.value.name() + "' belongs to another Builder");
        g->set_loss(loss.value);
      }, py::arg("loss"))
      .def("scope", [](const BuilderPtr& g, std::string name) { return Scope(g, std::move(name)); }, py::arg("name"),
           "with builder.scope('fc1'): nodes made inside are named 'fc1/...'")
      .def("graph", [](const BuilderPtr& g) { return g->graph(); }, "A copy of the graph built so far");

  // Every other op, as a Builder method generated from graph/ops.def:
  // operands first, then the op's attributes (positionally in declaration
  // order, or by keyword), then `name`.
  for (std::size_t k = 0; k < kOpCount; ++k) {
    const auto op = static_cast<OpKind>(k);
    if (op_info(op).is_leaf()) continue;  // input, labels, param, constant: above
    b.def(std::string(op_name(op)).c_str(),
          [op](const BuilderPtr& g, const py::args& args, const py::kwargs& kwargs) {
            return build_op(g, op, args, kwargs);
          },
          builder_doc(op).c_str());
  }

  m.def("dense", [](const BuilderPtr& g, const PyValue& x, std::int64_t units, const std::string& name, Init w_init,
                    Init b_init) { return wrap(g, dense(*g, x.value, units, name, w_init, b_init)); },
        py::arg("builder"), py::arg("x"), py::arg("units"), py::arg("name"), py::arg("w_init") = Init::he(),
        py::arg("b_init") = Init::zeros(),
        "A fully connected layer x·W + b ('name/W', 'name/b'), fused into one affine by the compiler");
}

}  // namespace

DType dtype_arg(const py::object& dtype) {
  if (py::isinstance<py::str>(dtype)) {
    const std::string text = dtype.cast<std::string>();
    if (auto parsed = parse_dtype(text)) return *parsed;
  }
  try {
    const py::dtype as_numpy = py::dtype::from_args(dtype);
    for (DType t : {DType::f32, DType::f64, DType::i32})
      if (as_numpy.is(numpy_dtype(t))) return t;
  } catch (const py::error_already_set&) {
    // not a NumPy dtype either: said below
  }
  throw Error("unknown dtype '" + py::str(dtype).cast<std::string>() +
              "': expected 'f32', 'f64', 'i32' or numpy.float32, numpy.float64, numpy.int32");
}

void bind_graph(py::module_& m) {
  bind_init(m);
  bind_graph_class(m);
  bind_value(m);
  bind_builder(m);
}

}  // namespace kiln::python
