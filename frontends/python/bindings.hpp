#pragma once
// The pieces of the kiln Python module, each binding one part of the public
// C++ API (module.cpp puts them together).
#include <pybind11/pybind11.h>

#include <exception>
#include <string>

#include "graph/dtype.hpp"

namespace kiln::python {

namespace py = pybind11;

// Graph, load_graph, build_model, Init, Builder, Value, dense.
void bind_graph(py::module_& m);
// compile and Plan.
void bind_plan(py::module_& m);
// load_dataset, set_threads, threads.
void bind_data(py::module_& m);

// Sets the Python error for a kiln exception (ValueError, RuntimeError for a
// non-finite loss, MemoryError for the memory limit); rethrows anything else.
void translate_kiln_error(std::exception_ptr error);

// A dtype given as "f32"/"f64"/"i32" or as a NumPy dtype (numpy.float32, ...).
DType dtype_arg(const py::object& dtype);

}  // namespace kiln::python
