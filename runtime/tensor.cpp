#include "runtime/tensor.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

namespace kiln {
namespace {

std::byte* allocate_zeroed(std::size_t bytes) {
  // aligned_alloc wants a multiple of the alignment; never ask for 0 bytes.
  std::size_t rounded = (bytes + Tensor::kAlignment - 1) / Tensor::kAlignment * Tensor::kAlignment;
  if (rounded == 0) rounded = Tensor::kAlignment;
  void* p = std::aligned_alloc(Tensor::kAlignment, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return static_cast<std::byte*>(p);
}

}  // namespace

void Tensor::AlignedFree::operator()(std::byte* p) const { std::free(p); }

Tensor::Tensor(Shape shape, DType dtype) : shape_(std::move(shape)), dtype_(dtype) {
  std::int64_t n = shape_.numel();  // throws on non-positive or overflowing dims
  if (static_cast<std::uint64_t>(n) > SIZE_MAX / dtype_size(dtype_))
    throw Error("tensor of shape " + shape_.str() + " is too large to address");
  numel_ = static_cast<std::size_t>(n);
  try {
    storage_.reset(allocate_zeroed(bytes()));
  } catch (const std::bad_alloc&) {
    throw Error("cannot allocate " + std::to_string(bytes()) + " bytes for a tensor " + type_str());
  }
}

Tensor::Tensor(const Tensor& other) : shape_(other.shape_), dtype_(other.dtype_), numel_(other.numel_) {
  storage_.reset(allocate_zeroed(bytes()));
  std::memcpy(storage_.get(), other.storage_.get(), bytes());
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

Tensor Tensor::from_values(Shape shape, DType dtype, const std::vector<double>& values) {
  Tensor t(std::move(shape), dtype);
  if (values.size() != t.numel())
    throw Error("expected " + std::to_string(t.numel()) + " values for a tensor of shape " + t.shape().str() +
                ", found " + std::to_string(values.size()));
  for (std::size_t i = 0; i < values.size(); ++i) t.set(i, values[i]);
  return t;
}

void Tensor::check_index(std::size_t i) const {
  if (i >= numel_)
    throw Error("element index " + std::to_string(i) + " is out of range for a tensor of shape " + shape_.str() +
                " (" + std::to_string(numel_) + " elements)");
}

double Tensor::get(std::size_t i) const {
  check_index(i);
  switch (dtype_) {
    case DType::f32: return reinterpret_cast<const float*>(storage_.get())[i];
    case DType::f64: return reinterpret_cast<const double*>(storage_.get())[i];
    case DType::i32: return reinterpret_cast<const std::int32_t*>(storage_.get())[i];
  }
  return 0.0;
}

void Tensor::set(std::size_t i, double v) {
  check_index(i);
  switch (dtype_) {
    case DType::f32: reinterpret_cast<float*>(storage_.get())[i] = static_cast<float>(v); break;
    case DType::f64: reinterpret_cast<double*>(storage_.get())[i] = v; break;
    case DType::i32:
      if (!(v >= INT32_MIN && v <= INT32_MAX))
        throw Error("value " + std::to_string(v) + " does not fit an i32 element (index " + std::to_string(i) + ")");
      reinterpret_cast<std::int32_t*>(storage_.get())[i] = static_cast<std::int32_t>(std::lround(v));
      break;
  }
}

std::vector<double> Tensor::values() const {
  std::vector<double> v(numel_);
  for (std::size_t i = 0; i < numel_; ++i) v[i] = get(i);
  return v;
}

std::string type_str(const Shape& shape, DType dtype) { return std::string(dtype_name(dtype)) + " " + shape.str(); }

std::string Tensor::type_str() const { return kiln::type_str(shape_, dtype_); }

void Tensor::throw_type_mismatch(DType requested) const {
  throw Error("tensor " + type_str() + " accessed as " + std::string(dtype_name(requested)));
}

}  // namespace kiln
