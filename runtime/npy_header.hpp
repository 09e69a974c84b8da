#pragma once
// The dictionary at the start of a .npy file; internal to runtime/npy.cpp and
// its tests.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::npy {

struct Header {
  std::string descr;                 // e.g. "<f4"
  bool fortran_order = false;
  std::vector<std::int64_t> shape;  // () is a 0-d array
};

// Parses the Python literal `{'descr': '<f4', 'fortran_order': False,
// 'shape': (3, 4), }` (any key order, trailing commas and padding allowed,
// exactly these three keys). Throws kiln::Error with "what: expected ...,
// found ..." and the character offset; the caller prefixes the file name.
Header parse_header(std::string_view text);

// The dictionary text NumPy itself writes, without padding.
std::string format_header(const Header& h);

}  // namespace kiln::npy
