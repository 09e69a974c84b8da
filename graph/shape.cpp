#include "graph/shape.hpp"

#include <limits>

#include "graph/dtype.hpp"
#include "graph/error.hpp"

namespace kiln {

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (auto d : dims_) {
    if (d <= 0) throw Error("shape " + str() + " has a non-positive dimension");
    if (n > std::numeric_limits<std::int64_t>::max() / d)
      throw Error("shape " + str() + " has more elements than fit in 64 bits");
    n *= d;
  }
  return n;
}

std::string Shape::str() const {
  std::string s = "[";
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

std::optional<DType> parse_dtype(std::string_view s) {
  if (s == "f32") return DType::f32;
  if (s == "f64") return DType::f64;
  if (s == "i32") return DType::i32;
  return std::nullopt;
}

}  // namespace kiln
