// The op mapping on hand-built models: what each ONNX op becomes in kiln's
// op table, and the one-line refusals.
#include <catch2/catch.hpp>

#include "frontends/onnx/graph_order.hpp"
#include "frontends/onnx/map_ops.hpp"
#include "graph/error.hpp"
#include "onnx_model_builders.hpp"

using namespace kiln;
using namespace kiln::onnx;
using namespace kiln::onnx::test;
using Catch::Matchers::Contains;

namespace {

Value map_one(Builder& b, Model m, std::optional<std::int64_t> batch = std::nullopt) {
  order_nodes(m);
  std::vector<Value> out = map_graph(m, b, {.batch = batch, .params_file = "test.safetensors"});
  REQUIRE(out.size() == 1);
  return out.front();
}

}  // namespace

TEST_CASE("Gemm with transB reads the out-by-in initializer transposed, without a copy", "[onnx]") {
  Builder b;
  Value out = map_one(b, model_with({std::nullopt, 3},
                                    {node("Gemm", {"x", "fc.weight", "fc.bias"}, {"out"}, "/fc/Gemm",
                                          {int_attribute("transB", 1)})},
                                    {floats("fc.weight", {2, 3}, {1, 2, 3, 4, 5, 6}), floats("fc.bias", {2}, {7, 8})}),
                      5);
  const Graph& g = b.graph();
  CHECK(out.name() == "fc/Gemm");
  CHECK(out.shape() == Shape{5, 2});
  CHECK(g[g.at("x")].shape == Shape{5, 3});
  const Node& w = g[g.at("fc.weight")];
  CHECK(w.op == OpKind::param);
  CHECK(w.shape == Shape{2, 3});
  CHECK(w.attrs.init.kind == Init::Kind::file);
  CHECK(w.attrs.init.tensor == "fc.weight");
  CHECK(w.attrs.init.path == "test.safetensors");
  REQUIRE(w.attrs.init.values);
  CHECK(*w.attrs.init.values == std::vector<double>{1, 2, 3, 4, 5, 6});
  const Node& mm = g[g.at("fc/Gemm/matmul")];
  CHECK(mm.op == OpKind::matmul);
  CHECK(mm.attrs.transpose_b);
  CHECK_FALSE(mm.attrs.transpose_a);
  CHECK(g[out.id()].op == OpKind::add);
}

TEST_CASE("Gemm's alpha and beta become scales", "[onnx]") {
  Builder b;
  map_one(b, model_with({4, 3},
                        {node("Gemm", {"x", "w", "c"}, {"out"}, "g",
                              {float_attribute("alpha", 0.5f), float_attribute("beta", 2.0f)})},
                        {floats("w", {3, 2}, {1, 2, 3, 4, 5, 6}), floats("c", {2}, {1, 1})}));
  CHECK(b.graph()[b.graph().at("g/alpha")].attrs.factor == 0.5);
  CHECK(b.graph()[b.graph().at("g/beta")].attrs.factor == 2.0);
}

TEST_CASE("Sub with the broadcast operand first is the negated reversed difference", "[onnx]") {
  Builder b;
  Value out = map_one(b, model_with({4, 3}, {node("Sub", {"v", "x"}, {"out"}, "s")}, {floats("v", {3}, {1, 2, 3})}));
  CHECK(b.graph()[out.id()].op == OpKind::neg);
  CHECK(b.graph()[b.graph().at("s/reversed")].op == OpKind::sub);
}

TEST_CASE("Softmax maps only where it equals kiln's last-axis softmax", "[onnx]") {
  // Before opset 13 the default axis 1 flattens [4, 1, 3] from axis 1: the
  // same as the last axis, as the dimension in between is 1.
  Builder ok;
  Value out = map_one(ok, model_with({4, 1, 3}, {node("Softmax", {"x"}, {"out"}, "sm")}, {}, 11));
  CHECK(ok.graph()[out.id()].op == OpKind::softmax);
  Builder bad;
  CHECK_THROWS_WITH(map_one(bad, model_with({4, 2, 3}, {node("Softmax", {"x"}, {"out"}, "sm")}, {}, 11)),
                    Contains("ONNX node 'sm' (Softmax), opset 11: axis 1 on [4, 2, 3] is not the last axis"));
  Builder axis0;
  CHECK_THROWS_WITH(map_one(axis0, model_with({4, 3}, {node("Softmax", {"x"}, {"out"}, "sm",
                                                            {int_attribute("axis", 0)})})),
                    Contains("not the last axis"));
}

TEST_CASE("Flatten keeps the batch symbolic, Reshape reads a constant INT64 shape", "[onnx]") {
  Builder b;
  Value out = map_one(b, model_with({2, 1, 2, 2},
                                    {node("Flatten", {"x"}, {"f"}, "flat"), node("Reshape", {"f", "shape"}, {"out"}, "r")},
                                    {ints("shape", {-1, 2})}));
  CHECK(b.graph()[b.graph().at("flat")].attrs.dims == std::vector<std::int64_t>{0, -1});
  CHECK(out.shape() == Shape{4, 2});
}

TEST_CASE("an op kiln does not import is refused naming the node, its op type, the opset and the supported ops",
          "[onnx]") {
  Builder b;
  CHECK_THROWS_WITH(map_one(b, model_with({4, 3}, {node("Conv", {"x"}, {"out"}, "conv1")})),
                    "test.onnx: ONNX node 'conv1' (Conv), opset 13: not supported; kiln imports " + supported_ops());
  // The written mappers, and every ONNX name graph/ops.def declares.
  CHECK(supported_ops() ==
        "Abs, Add, Constant, Erf, Exp, Flatten, Gemm, Identity, Log, LogSoftmax, MatMul, Mul, Neg, Reciprocal, Relu, "
        "Reshape, Sigmoid, Sign, Softmax, Softplus, Sqrt, Sub, Tanh");
}

TEST_CASE("kiln_name keeps names kiln allows and replaces the rest", "[onnx]") {
  CHECK(kiln_name("fc1.weight") == "fc1.weight");
  CHECK(kiln_name("/fc1/Gemm") == "fc1/Gemm");
  CHECK(kiln_name("onnx::MatMul_5") == "onnx__MatMul_5");
}
