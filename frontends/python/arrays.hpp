#pragma once
// NumPy arrays to and from kiln's dense tensors: the one place that knows how
// a kiln dtype is spelled in NumPy, and the checks a fed array must pass.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "graph/graph.hpp"
#include "runtime/tensor.hpp"

namespace kiln::python {

namespace py = pybind11;

// float32, float64, int32.
py::dtype numpy_dtype(DType dtype);
// "f32 [300, 2]" for a kiln type, "float64 [300, 3]" for an array.
std::string array_type_str(const py::array& array);

// A new array holding a copy of `bytes` laid out as `shape` of `dtype`.
py::array copy_to_numpy(const void* data, const Shape& shape, DType dtype);
py::array copy_to_numpy(const Tensor& tensor);

// A writable array over memory that `owner` keeps alive: no copy.
py::array view_of(void* data, const Shape& shape, DType dtype, py::handle owner);

// `array` as C-contiguous memory of node's exact shape and dtype (a copy only
// when it is strided). Throws kiln::Error naming the node (as `what` calls
// it), the expected and the given type when shape or dtype differ: kiln never
// converts silently, as a float64 batch fed to an f32 plan is a mistake.
py::array checked_for(const py::array& array, const Node& node, const std::string& what);

// A kiln Tensor copy of an array already checked with checked_for.
Tensor to_tensor(const py::array& checked, const Node& node);

}  // namespace kiln::python
