#pragma once
#include <string>

#include "runtime/tensor.hpp"

namespace kiln {

// NumPy .npy files (format versions 1.0, 2.0 and 3.0), C order,
// little-endian: '<f4' (f32), '<f8' (f64), '<i4' (i32), and '<i8', read into
// i32 with a range check (NumPy's default integer type). A 0-d array is a
// scalar tensor.
//
// Malformed or hostile files (bad magic, truncated header or data, trailing
// bytes, fortran_order True, an unsupported dtype, zero or overflowing
// dimensions, a shape larger than the file) are rejected before any tensor is
// allocated, with a kiln::Error naming the file and what was expected vs
// found.
Tensor read_npy(const std::string& path);

// Like read_npy, then checks the tensor is `expected_dtype` `expected` for
// node `node_name`; the error names the file, the node, the expected and the
// found shape/dtype.
Tensor read_npy_as(const std::string& path, const Shape& expected, DType expected_dtype,
                   const std::string& node_name);

// Writes a version 1.0 file (2.0 if the header needs it) to a temporary name
// beside `path`, then renames it over `path`, so a reader never sees half a
// file. i32 tensors are written as '<i4'. Throws kiln::Error naming the file
// on any I/O failure.
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace kiln
