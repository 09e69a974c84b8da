// kiln.compile and Plan: a compiled training step driven from Python. Fed
// batches are checked and copied (feed) or written in place through
// zero-copy views of the plan's own buffers (input, labels); step() runs with
// the GIL released and allocates nothing.
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "frontends/builder.hpp"
#include "bindings.hpp"
#include "graph/error.hpp"
#include "passes/pipeline.hpp"
#include "runtime/checkpoint.hpp"
#include "runtime/plan.hpp"
#include "runtime/plan_memory.hpp"
#include "runtime/threads.hpp"

namespace kiln::python {

namespace {

const Node& node_named(const Plan& plan, const std::string& name) { return plan.graph().node(plan.graph().at(name)); }

const Graph& graph_arg(const py::object& graph) {
  if (py::isinstance<Graph>(graph)) return graph.cast<const Graph&>();
  if (py::isinstance<Builder>(graph)) return graph.cast<const Builder&>().graph();
  throw Error("kiln.compile: expected a kiln.Graph (from load_graph, build_model or Builder.graph()) or a Builder, given " +
              py::str(py::type::of(graph)).cast<std::string>());
}

std::size_t byte_size_arg(const py::object& size) {
  if (size.is_none()) return 0;
  if (py::isinstance<py::str>(size)) return parse_byte_size(size.cast<std::string>());
  return size.cast<std::size_t>();
}

Plan compile_plan(const py::object& graph, const std::optional<std::string>& optimizer, double lr, double momentum,
                  double beta1, double beta2, double eps, double weight_decay, bool fuse, bool simplify,
                  std::optional<int> threads, std::uint64_t seed, const py::object& max_memory, bool check_numerics,
                  std::vector<std::string> outputs, std::vector<std::string> wrt, const Plan* share_params) {
  const Graph& g = graph_arg(graph);
  PlanOptions options;
  options.compile.fuse = fuse;
  options.compile.simplify = simplify;
  options.compile.differentiate = g.loss().has_value() || optimizer.has_value();
  options.compile.outputs = std::move(outputs);
  options.compile.wrt = std::move(wrt);
  if (optimizer) {
    OptimizerOptions o;
    o.kind = parse_optimizer(*optimizer);
    o.lr = lr;
    o.momentum = momentum;
    o.beta1 = beta1;
    o.beta2 = beta2;
    o.eps = eps;
    o.weight_decay = weight_decay;
    options.optimizer = o;
  }
  options.seed = seed;
  options.max_memory_bytes = byte_size_arg(max_memory);
  options.check_numerics = check_numerics;
  if (threads) set_threads(*threads);
  py::gil_scoped_release release;  // the first compile of a shape may time GEMMs
  return compile(g, options, share_params ? share_params->shared_params() : nullptr);
}

py::array input_view(py::object self, const std::string& name) {
  Plan& plan = self.cast<Plan&>();
  const Node& node = node_named(plan, name);
  void* data = node.dtype == DType::f64 ? static_cast<void*>(plan.input_buffer<double>(name))
                                        : static_cast<void*>(plan.input_buffer<float>(name));
  return view_of(data, node.shape, node.dtype, self);
}

py::array labels_view(py::object self, const std::string& name) {
  Plan& plan = self.cast<Plan&>();
  const Node& node = node_named(plan, name);
  return view_of(plan.labels_buffer(name), node.shape, node.dtype, self);
}

void feed(Plan& plan, const std::string& name, const py::array& array) {
  const Node& node = node_named(plan, name);
  plan.feed(name, to_tensor(checked_for(array, node, "Plan.feed"), node));
}

void set_param(Plan& plan, const std::string& name, const py::array& array) {
  const Node& node = node_named(plan, name);
  if (node.op != OpKind::param)
    throw Error("Plan.set_param: node '" + name + "' is " + std::string(op_name(node.op)) +
                ", not a param; feed inputs and labels with Plan.feed");
  plan.params().set(name, to_tensor(checked_for(array, node, "Plan.set_param"), node));
}

py::dict params_dict(const Plan& plan, bool optimizer_state) {
  py::dict out;
  for (const std::string& name : plan.params().names()) {
    auto id = plan.graph().find(name);
    const bool is_state = id && plan.graph().node(*id).role == Role::update;
    if (is_state && !optimizer_state) continue;
    out[py::str(name)] = copy_to_numpy(plan.params().get(name));
  }
  return out;
}

py::array view_copy(const TensorView& v) { return copy_to_numpy(v.data, *v.shape, v.dtype); }

py::dict memory_dict(const Plan& plan) {
  const PlanMemory m = plan.memory_needs();
  py::dict d;
  d["arena_bytes"] = m.arena_bytes;
  d["lower_bound"] = m.lower_bound;
  d["naive_bytes"] = m.naive_bytes;
  d["scratch_bytes"] = m.scratch_bytes;
  d["fed_bytes"] = m.fed_bytes;
  d["param_bytes"] = m.param_bytes;
  d["optimizer_state_bytes"] = m.optimizer_state_bytes;
  d["constant_bytes"] = m.constant_bytes;
  d["total_bytes"] = m.total_bytes();
  d["summary"] = m.summary();
  return d;
}

py::list stats_list(const Plan& plan) {
  py::list out;
  for (const PassStats& s : plan.stats()) {
    py::dict d;
    d["pass"] = s.pass;
    d["nodes_before"] = s.nodes_before;
    d["nodes_after"] = s.nodes_after;
    d["fired"] = s.fired;
    out.append(d);
  }
  return out;
}

// Plan.step as a plain CPython method rather than through pybind11's
// dispatcher, which allocates its argument vectors on every call: a step
// through the module allocates nothing (tests/python/test_allocations.py).
PyObject* step_method(PyObject* self, PyObject*) {
  try {
    Plan& plan = py::handle(self).cast<Plan&>();
    double loss = 0;
    {
      py::gil_scoped_release release;
      loss = plan.step();
    }
    return PyFloat_FromDouble(loss);
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::cast_error&) {
    PyErr_SetString(PyExc_TypeError, "Plan.step needs a kiln.Plan");
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const Error&) {
    translate_kiln_error(std::current_exception());
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

PyMethodDef step_def = {"step", step_method, METH_NOARGS,
                        "Runs one step; returns the loss computed before the update"};

}  // namespace

void bind_plan(py::module_& m) {
  m.def("compile", &compile_plan, py::arg("graph"), py::arg("optimizer") = "sgd", py::arg("lr") = 0.01,
        py::arg("momentum") = 0.9, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("eps") = 1e-8,
        py::arg("weight_decay") = 0.0, py::arg("fuse") = true, py::arg("simplify") = true,
        py::arg("threads") = py::none(), py::arg("seed") = 0, py::arg("max_memory") = py::none(),
        py::arg("check_numerics") = false, py::arg("outputs") = std::vector<std::string>{},
        py::arg("wrt") = std::vector<std::string>{}, py::arg("share_params") = nullptr,
        "Compiles a graph into a Plan: a training step with the optimizer's update (sgd, momentum, adam), or\n"
        "with optimizer=None the loss and its gradients only (a forward-only plan for a graph without a loss).\n"
        "share_params=plan: use that plan's params (e.g. evaluation at another batch size). threads sets\n"
        "kiln's process-wide GEMM threads; outputs names nodes to read with Plan.value after a step.");

  py::class_<Plan> plan(m, "Plan", "A compiled step: one arena, flat kernel calls; step() allocates nothing");
  plan
      .def("feed", &feed, py::arg("name"), py::arg("array"),
           "Copies an array into an input, labels, param or constant; its shape and dtype must match exactly")
      .def("input", &input_view, py::arg("name"), "A writable NumPy view of input `name`'s buffer in the plan")
      .def("labels", &labels_view, py::arg("name"), "A writable int32 NumPy view of labels `name`'s buffer")
      .def("run", [](Plan& plan) {
        py::gil_scoped_release release;
        plan.run();
      }, "Runs one step of a plan without a loss (e.g. forward only)")
      .def_property_readonly("loss", &Plan::loss)
      .def("param", [](const Plan& p, const std::string& name) { return copy_to_numpy(p.param(name)); },
           py::arg("name"), "A copy of param `name`")
      .def("set_param", &set_param, py::arg("name"), py::arg("array"))
      .def("params", &params_dict, py::arg("optimizer_state") = false,
           "{name: copy} of the params (and of the optimizer state with optimizer_state=True)")
      .def("grad", [](const Plan& p, const std::string& of) { return view_copy(p.gradient(of)); }, py::arg("name"),
           "A copy of d loss / d name after the last step, where the plan keeps it")
      .def("value", [](const Plan& p, const std::string& name) { return view_copy(p.value(name)); }, py::arg("name"),
           "A copy of node `name`'s value after the last step, where the plan keeps it")
      .def("save", [](const Plan& p, const std::string& path, const std::map<std::string, std::string>& metadata) {
        save_checkpoint(path, p.params(), metadata);
      }, py::arg("path"), py::arg("metadata") = std::map<std::string, std::string>{},
           "Writes every param and the optimizer state to a safetensors checkpoint, as kiln train --save")
      .def("load", [](Plan& p, const std::string& path) { load_checkpoint_into(path, p.params()); }, py::arg("path"))
      .def("memory", &memory_dict)
      .def("stats", &stats_list)
      .def("format_stats", [](const Plan& p) { return format_stats(p.stats()); })
      .def_property_readonly("graph", [](const Plan& p) { return p.graph(); }, "A copy of the compiled graph")
      .def_property_readonly("kernel_calls", &Plan::kernel_calls)
      .def_property_readonly("steps_run", &Plan::steps_run)
      .def_property("check_numerics", &Plan::check_numerics, &Plan::set_check_numerics);
  plan.attr("step") = py::reinterpret_steal<py::object>(
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(plan.ptr()), &step_def));
}

}  // namespace kiln::python
