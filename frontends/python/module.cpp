// kiln._kiln: the extension behind the `kiln` Python package. A thin skin
// over the public C++ API: every name mirrors a C++ one, and kiln's errors
// become Python exceptions carrying the same one-line message.
#include <pybind11/pybind11.h>

#include <exception>

#include "bindings.hpp"
#include "graph/error.hpp"
#include "runtime/plan.hpp"
#include "runtime/plan_memory.hpp"

namespace kiln::python {

// Most specific first: a non-finite loss is a failure of the run, not of the
// caller's input; a plan over its memory limit is out of memory; every other
// kiln::Error is bad input (a shape, a name, a file). Anything else is left
// to pybind11's own translators.
void translate_kiln_error(std::exception_ptr error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const NonFiniteLoss& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (const MemoryLimitExceeded& e) {
    PyErr_SetString(PyExc_MemoryError, e.what());
  } catch (const Error& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  }
}

}  // namespace kiln::python

PYBIND11_MODULE(_kiln, m) {
  namespace py = pybind11;
  m.doc() = "kiln: a static computation-graph compiler for training neural networks";
  py::register_exception_translator(&kiln::python::translate_kiln_error);
  kiln::python::bind_graph(m);
  kiln::python::bind_plan(m);
  kiln::python::bind_data(m);
}
