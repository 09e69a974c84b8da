#include <catch2/catch.hpp>

#include <cstdint>

#include "graph/error.hpp"
#include "runtime/tensor.hpp"

using namespace kiln;

TEST_CASE("a tensor is zero-filled, 64-byte aligned and sized from its shape and dtype", "[runtime][tensor]") {
  for (DType dt : {DType::f32, DType::f64, DType::i32}) {
    Tensor t(Shape{3, 5}, dt);
    CHECK(t.shape() == Shape{3, 5});
    CHECK(t.dtype() == dt);
    CHECK(t.numel() == 15);
    CHECK(t.bytes() == 15 * dtype_size(dt));
    CHECK(reinterpret_cast<std::uintptr_t>(t.raw()) % 64 == 0);
    for (std::size_t i = 0; i < t.numel(); ++i) CHECK(t.get(i) == 0.0);
  }
  Tensor scalar(Shape{}, DType::f64);
  CHECK(scalar.numel() == 1);
  CHECK(scalar.get(0) == 0.0);
}

TEST_CASE("typed access checks the dtype and names both types", "[runtime][tensor]") {
  Tensor t(Shape{2}, DType::f32);
  t.data<float>()[1] = 2.5f;
  CHECK(t.get(1) == 2.5);
  const Tensor& ct = t;
  CHECK(ct.data<float>()[1] == 2.5f);
  CHECK_THROWS_WITH(t.data<double>(), Catch::Contains("f32 [2]") && Catch::Contains("f64"));
  CHECK_THROWS_AS(t.data<std::int32_t>(), Error);
  Tensor labels(Shape{3}, DType::i32);
  labels.data<std::int32_t>()[2] = 7;
  CHECK(labels.get(2) == 7.0);
  CHECK_THROWS_AS(labels.data<float>(), Error);
}

TEST_CASE("get and set convert through double and check the index", "[runtime][tensor]") {
  Tensor f(Shape{2, 2}, DType::f32);
  f.set(3, 0.1);
  CHECK(f.data<float>()[3] == 0.1f);
  CHECK_THROWS_WITH(f.get(4), Catch::Contains("index 4") && Catch::Contains("[2, 2]"));
  CHECK_THROWS_AS(f.set(4, 1.0), Error);
  Tensor i(Shape{2}, DType::i32);
  i.set(0, 2.6);
  i.set(1, -3.0);
  CHECK(i.data<std::int32_t>()[0] == 3);
  CHECK(i.data<std::int32_t>()[1] == -3);
  CHECK_THROWS_AS(i.set(0, 3e9), Error);
}

TEST_CASE("from_values fills row-major and rejects a wrong count", "[runtime][tensor]") {
  Tensor t = Tensor::from_values(Shape{2, 3}, DType::f64, {1, 2, 3, 4, 5, 6});
  CHECK(t.data<double>()[4] == 5.0);
  CHECK(t.values() == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK_THROWS_WITH(Tensor::from_values(Shape{2, 3}, DType::f32, {1, 2}),
                    Catch::Contains("expected 6") && Catch::Contains("found 2"));
}

TEST_CASE("copies are deep and moves keep the storage", "[runtime][tensor]") {
  Tensor a = Tensor::from_values(Shape{3}, DType::f32, {1, 2, 3});
  Tensor b = a;
  b.set(0, 9);
  CHECK(a.get(0) == 1.0);
  CHECK(b.get(0) == 9.0);
  CHECK(b.raw() != a.raw());
  const void* storage = b.raw();
  Tensor c = std::move(b);
  CHECK(c.raw() == storage);
  a = c;
  CHECK(a.values() == std::vector<double>{9, 2, 3});
  CHECK(reinterpret_cast<std::uintptr_t>(a.raw()) % 64 == 0);
}

TEST_CASE("a tensor refuses impossible shapes", "[runtime][tensor]") {
  CHECK_THROWS_AS(Tensor(Shape{2, 0}, DType::f32), Error);
  CHECK_THROWS_AS(Tensor(Shape{INT64_MAX / 2, 4}, DType::f32), Error);
}

TEST_CASE("ref() views the storage with its shape and dtype", "[runtime][tensor]") {
  Tensor t(Shape{4, 2}, DType::f64);
  TensorRef r = t.ref();
  CHECK(r.data == t.raw());
  CHECK(*r.shape == Shape{4, 2});
  CHECK(r.dtype == DType::f64);
  CHECK(t.type_str() == "f64 [4, 2]");
}
