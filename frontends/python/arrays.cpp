#include "arrays.hpp"

#include <cstring>
#include <vector>

#include "graph/error.hpp"

namespace kiln::python {

namespace {

std::vector<py::ssize_t> dims_of(const Shape& shape) {
  return {shape.dims().begin(), shape.dims().end()};
}

bool same_dtype(const py::array& array, DType dtype) { return array.dtype().is(numpy_dtype(dtype)); }

bool same_shape(const py::array& array, const Shape& shape) {
  if (static_cast<std::size_t>(array.ndim()) != shape.rank()) return false;
  for (std::size_t i = 0; i < shape.rank(); ++i)
    if (array.shape(static_cast<py::ssize_t>(i)) != shape[i]) return false;
  return true;
}

}  // namespace

py::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32: return py::dtype::of<float>();
    case DType::f64: return py::dtype::of<double>();
    case DType::i32: return py::dtype::of<std::int32_t>();
  }
  return py::dtype::of<float>();
}

std::string array_type_str(const py::array& array) {
  std::string shape = "[";
  for (py::ssize_t i = 0; i < array.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(array.shape(i));
  return py::str(array.dtype()).cast<std::string>() + " " + shape + "]";
}

py::array copy_to_numpy(const void* data, const Shape& shape, DType dtype) {
  py::array out(numpy_dtype(dtype), dims_of(shape));
  std::memcpy(out.mutable_data(), data, static_cast<std::size_t>(shape.numel()) * dtype_size(dtype));
  return out;
}

py::array copy_to_numpy(const Tensor& tensor) { return copy_to_numpy(tensor.raw(), tensor.shape(), tensor.dtype()); }

py::array view_of(void* data, const Shape& shape, DType dtype, py::handle owner) {
  return py::array(numpy_dtype(dtype), dims_of(shape), {}, data, owner);
}

py::array checked_for(const py::array& array, const Node& node, const std::string& what) {
  if (!same_dtype(array, node.dtype) || !same_shape(array, node.shape))
    throw Error(what + ": node '" + node.name + "' (" + std::string(op_info(node.op).name) + ") is " +
                type_str(node.shape, node.dtype) + " (NumPy " + py::str(numpy_dtype(node.dtype)).cast<std::string>() +
                "), given " + array_type_str(array));
  return py::array::ensure(array, py::array::c_style);
}

Tensor to_tensor(const py::array& checked, const Node& node) {
  Tensor tensor(node.shape, node.dtype);
  std::memcpy(tensor.raw(), checked.data(), tensor.bytes());
  return tensor;
}

}  // namespace kiln::python
