#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

namespace kiln {

// f64 exists for gradient checks; i32 carries class-id labels.
enum class DType { f32, f64, i32 };

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
  }
  return "?";
}

constexpr std::size_t dtype_size(DType t) {
  return t == DType::f64 ? 8 : 4;
}

constexpr bool is_float(DType t) { return t == DType::f32 || t == DType::f64; }

std::optional<DType> parse_dtype(std::string_view s);

}  // namespace kiln
