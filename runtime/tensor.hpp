#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "graph/dtype.hpp"
#include "graph/error.hpp"
#include "graph/shape.hpp"

namespace kiln {

// The dtype that stores C++ type T; other types do not compile.
template <class T>
constexpr DType dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int32_t>,
                "kiln tensors hold float (f32), double (f64) or std::int32_t (i32)");
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  else if constexpr (std::is_same_v<T, double>) return DType::f64;
  else return DType::i32;
}

// A non-owning view of a tensor's storage: what kernels and plans are bound
// to. The shape it points at must outlive the view.
struct TensorRef {
  void* data = nullptr;
  const Shape* shape = nullptr;
  DType dtype = DType::f32;
};

// A dense, row-major tensor that owns its storage. Storage is 64-byte aligned
// (one cache line, one AVX-512 vector) and zero-filled on construction;
// copies are deep. A default-constructed Tensor is an f32 scalar 0.
class Tensor {
 public:
  static constexpr std::size_t kAlignment = 64;

  Tensor() : Tensor(Shape{}, DType::f32) {}
  Tensor(Shape shape, DType dtype);
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  ~Tensor() = default;

  // Values in row-major order, converted to `dtype`; throws kiln::Error when
  // their count does not match the shape.
  static Tensor from_values(Shape shape, DType dtype, const std::vector<double>& values);

  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  std::size_t numel() const { return numel_; }
  std::size_t bytes() const { return numel_ * dtype_size(dtype_); }

  // Typed access; throws kiln::Error unless T matches the dtype
  // (float: f32, double: f64, std::int32_t: i32).
  template <class T>
  T* data() {
    check_type<T>();
    return reinterpret_cast<T*>(storage_.get());
  }
  template <class T>
  const T* data() const {
    check_type<T>();
    return reinterpret_cast<const T*>(storage_.get());
  }
  void* raw() { return storage_.get(); }
  const void* raw() const { return storage_.get(); }

  // Element i (row-major) as a double, whatever the dtype; for tests, I/O and
  // error messages, not for kernels. Throws kiln::Error when i is out of range.
  double get(std::size_t i) const;
  // Stores v converted to the dtype (i32: rounded to nearest).
  void set(std::size_t i, double v);

  // All elements as doubles, row-major.
  std::vector<double> values() const;

  TensorRef ref() { return {storage_.get(), &shape_, dtype_}; }
  // "f32 [32, 10]"
  std::string type_str() const;

 private:
  struct AlignedFree {
    void operator()(std::byte* p) const;
  };

  template <class T>
  void check_type() const {
    if (dtype_of<T>() != dtype_) throw_type_mismatch(dtype_of<T>());
  }
  [[noreturn]] void throw_type_mismatch(DType requested) const;
  void check_index(std::size_t i) const;

  Shape shape_;
  DType dtype_ = DType::f32;
  std::size_t numel_ = 1;
  std::unique_ptr<std::byte[], AlignedFree> storage_;
};

// "f32 [32, 10]" for a type that has no tensor yet.
std::string type_str(const Shape& shape, DType dtype);

}  // namespace kiln
