// Bad graph files: each is rejected with one kiln::Error that names the source,
// the node, the field, and what was expected versus found. Never a crash.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "frontends/json.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"

using namespace kiln;

namespace {

// A file with the given node lines (and optional extra top-level text).
std::string file_with(const std::string& nodes, const std::string& extra = "") {
  return R"({"format": "kiln-graph", "version": 1, "nodes": [)" + nodes + "]" + extra + "}";
}

const std::string kX = R"({"name": "x", "op": "input", "shape": [4, 3]})";
const std::string kY = R"({"name": "y", "op": "labels", "shape": [4], "classes": 3})";
const std::string kFused = R"({"name": "l", "op": "softmax_cross_entropy_with_grad", "inputs": ["x", "y"]})";

struct BadInput {
  const char* what;
  std::string text;
  std::vector<std::string> message_has;
};

const std::vector<BadInput>& bad_inputs() {
  static const std::vector<BadInput> cases = {
      {"malformed JSON", "{\"format\": \"kiln-graph\",\n \"version\": 1,\n \"nodes\": [}\n",
       {"malformed JSON", "line 3, column 12", "byte offset 51", "unexpected '}'"}},
      {"empty text", "", {"malformed JSON", "line 1", "unexpected end of input"}},
      {"not an object at the top", "[1, 2]", {"expected a JSON object at the top", "found [1, 2]"}},
      {"wrong format", R"({"format": "onnx", "version": 1, "nodes": []})",
       {"field 'format'", "expected \"kiln-graph\"", "found \"onnx\""}},
      {"wrong version", R"({"format": "kiln-graph", "version": 2, "nodes": []})",
       {"field 'version'", "expected 1", "found 2"}},
      {"version as a string", R"({"format": "kiln-graph", "version": "1", "nodes": []})",
       {"field 'version'", "expected 1", "found \"1\""}},
      {"missing nodes", R"({"format": "kiln-graph", "version": 1})", {"missing field 'nodes'", "expected a list"}},
      {"nodes not a list", R"({"format": "kiln-graph", "version": 1, "nodes": {"x": 1}})",
       {"field 'nodes'", "expected a list of nodes", "found {\"x\": 1}"}},
      {"unknown top-level field", file_with(kX, R"(, "learning_rate": 0.1)"),
       {"unknown top-level field 'learning_rate'", "expected format, version, nodes, loss"}},
      {"node not an object", file_with(kX + ", 42"), {"nodes[1]", "expected a node object", "found 42"}},
      {"missing name", file_with(kX + R"(, {"op": "relu", "inputs": ["x"]})"),
       {"nodes[1]", "missing field 'name'"}},
      {"invalid name characters", file_with(R"({"name": "my input", "op": "input", "shape": [2]})"),
       {"nodes[0]", "field 'name'", "letters, digits", "found \"my input\""}},
      {"duplicate name", file_with(kX + R"(, {"name": "x", "op": "param", "shape": [3], "init": {"kind": "zeros"}})"),
       {"node 'x' (param)", "field 'name'", "expected a unique name", "already used by nodes[0]"}},
      {"missing op", file_with(R"({"name": "x", "shape": [2]})"), {"node 'x'", "missing field 'op'", "input, labels"}},
      {"unknown op", file_with(kX + R"(, {"name": "h", "op": "gelu", "inputs": ["x"]})"),
       {"node 'h'", "field 'op'", "unknown op \"gelu\"", "expected one of", "relu"}},
      {"axis on relu", file_with(kX + R"(, {"name": "h", "op": "relu", "inputs": ["x"], "axis": 1})"),
       {"node 'h' (relu)", "unknown field 'axis'", "it accepts name, op, inputs, role"}},
      {"init on input", file_with(R"({"name": "x", "op": "input", "shape": [2], "init": {"kind": "zeros"}})"),
       {"node 'x' (input)", "unknown field 'init'", "it accepts name, op, shape, dtype, role"}},
      {"inputs on a leaf", file_with(kX + R"(, {"name": "z", "op": "input", "shape": [2], "inputs": ["x"]})"),
       {"node 'z' (input)", "unknown field 'inputs'"}},
      {"shape with a string", file_with(R"({"name": "x", "op": "input", "shape": [32, "a"]})"),
       {"node 'x' (input)", "field 'shape'", "expected a list of positive integers", "found [32, \"a\"]"}},
      {"shape with a zero", file_with(R"({"name": "x", "op": "input", "shape": [32, 0]})"),
       {"node 'x' (input)", "field 'shape'", "positive integers", "found [32, 0]"}},
      {"shape with a negative dim", file_with(R"({"name": "W", "op": "param", "shape": [-3], "init": {"kind": "he"}})"),
       {"node 'W' (param)", "field 'shape'", "positive integers", "found [-3]"}},
      {"shape with a float", file_with(R"({"name": "x", "op": "input", "shape": [32.0, 10]})"),
       {"node 'x' (input)", "field 'shape'", "found [32.0, 10]"}},
      {"shape not a list", file_with(R"({"name": "x", "op": "input", "shape": 5})"),
       {"node 'x' (input)", "field 'shape'", "expected a list of positive integers", "found 5"}},
      {"shape that overflows", file_with(R"({"name": "x", "op": "input", "shape": [4294967296, 4294967296]})"),
       {"node 'x' (input)", "field 'shape'", "64 bits"}},
      {"missing shape", file_with(R"({"name": "x", "op": "input"})"),
       {"node 'x' (input)", "missing field 'shape'", "positive integers"}},
      {"reshape without dims", file_with(kX + R"(, {"name": "r", "op": "reshape", "inputs": ["x"]})"),
       {"node 'r' (reshape)", "missing field 'dims'", "0 to keep one, -1 to infer one"}},
      {"reshape dims with a float", file_with(kX + R"(, {"name": "r", "op": "reshape", "inputs": ["x"], "dims": [2.5]})"),
       {"node 'r' (reshape)", "field 'dims'", "list of integers", "found [2.5]"}},
      {"reshape dims that do not fit", file_with(kX + R"(, {"name": "r", "op": "reshape", "inputs": ["x"], "dims": [5, -1]})"),
       {"node 'r' (reshape)", "cannot reshape [4, 3] to dims [5, -1]", "12 elements are not a multiple of 5",
        "inputs 'x' [4, 3] f32"}},
      {"unknown dtype", file_with(R"({"name": "x", "op": "input", "shape": [2], "dtype": "f16"})"),
       {"node 'x' (input)", "field 'dtype'", "expected \"f32\" or \"f64\"", "found \"f16\""}},
      {"labels without classes", file_with(R"({"name": "y", "op": "labels", "shape": [4]})"),
       {"node 'y' (labels)", "missing field 'classes'", "positive integer"}},
      {"classes zero", file_with(R"({"name": "y", "op": "labels", "shape": [4], "classes": 0})"),
       {"node 'y' (labels)", "field 'classes'", "expected a positive integer", "found 0"}},
      {"classes not a number", file_with(R"({"name": "y", "op": "labels", "shape": [4], "classes": "ten"})"),
       {"node 'y' (labels)", "field 'classes'", "found \"ten\""}},
      {"labels of rank 2", file_with(R"({"name": "y", "op": "labels", "shape": [4, 3], "classes": 3})"),
       {"node 'y' (labels)", "field 'shape'", "expected [rows]", "found [4, 3]"}},
      {"transpose_a not a bool", file_with(kX + R"(, {"name": "g", "op": "matmul", "inputs": ["x", "x"], "transpose_a": 1})"),
       {"node 'g' (matmul)", "field 'transpose_a'", "expected true or false", "found 1"}},
      {"axis not an integer", file_with(kX + R"(, {"name": "s", "op": "sum", "inputs": ["x"], "axis": "rows"})"),
       {"node 's' (sum)", "field 'axis'", "expected an integer axis", "found \"rows\""}},
      {"axis out of range", file_with(kX + R"(, {"name": "s", "op": "sum", "inputs": ["x"], "axis": 2})"),
       {"node 's' (sum)", "axis 2 is out of range for rank 2"}},
      {"scale without factor", file_with(kX + R"(, {"name": "s", "op": "scale", "inputs": ["x"]})"),
       {"node 's' (scale)", "missing field 'factor'", "expected a number"}},
      {"factor not a number", file_with(kX + R"(, {"name": "s", "op": "scale", "inputs": ["x"], "factor": "half"})"),
       {"node 's' (scale)", "field 'factor'", "expected a number", "found \"half\""}},
      {"too many inputs", file_with(kX + R"(, {"name": "h", "op": "relu", "inputs": ["x", "x"]})"),
       {"node 'h' (relu)", "field 'inputs'", "expected 1 input, found 2"}},
      {"too few inputs", file_with(kX + R"(, {"name": "fc", "op": "affine", "inputs": ["x", "x"]})"),
       {"node 'fc' (affine)", "field 'inputs'", "expected 3 inputs, found 2"}},
      {"missing inputs", file_with(kX + R"(, {"name": "h", "op": "relu"})"),
       {"node 'h' (relu)", "missing field 'inputs'", "expected a list of 1 input"}},
      {"empty add_n", file_with(kX + R"(, {"name": "s", "op": "add_n", "inputs": []})"),
       {"node 's' (add_n)", "field 'inputs'", "expected at least 1 input, found 0"}},
      {"input not a string", file_with(kX + R"(, {"name": "h", "op": "add", "inputs": ["x", 3]})"),
       {"node 'h' (add)", "field 'inputs'", "expected node names", "found 3 at position 1"}},
      {"undefined input", file_with(kX + R"(, {"name": "h", "op": "relu", "inputs": ["z"]})"),
       {"node 'h' (relu)", "field 'inputs'", "input 'z' names no node"}},
      {"input defined later",
       file_with(kX + R"(, {"name": "h", "op": "relu", "inputs": ["g"]}, {"name": "g", "op": "exp", "inputs": ["x"]})"),
       {"node 'h' (relu)", "field 'inputs'", "input 'g' is defined later in the list (nodes[2])",
        "only name inputs defined earlier"}},
      {"cycle of two",
       file_with(kX + R"(, {"name": "a", "op": "add", "inputs": ["x", "b"]}, {"name": "b", "op": "relu", "inputs": ["a"]})"),
       {"node 'a' (add)", "field 'inputs'", "cycle: a -> b -> a"}},
      {"cycle of three",
       file_with(R"({"name": "a", "op": "relu", "inputs": ["c"]}, {"name": "b", "op": "exp", "inputs": ["a"]}, )"
                 R"({"name": "c", "op": "tanh", "inputs": ["b"]})"),
       {"node 'a' (relu)", "cycle: a -> b -> c -> a"}},
      {"node feeding itself", file_with(R"({"name": "a", "op": "relu", "inputs": ["a"]})"),
       {"node 'a' (relu)", "cycle: a -> a"}},
      {"matmul of mismatched shapes",
       file_with(R"({"name": "x", "op": "input", "shape": [32, 784]}, )"
                 R"({"name": "W", "op": "param", "shape": [100, 10], "init": {"kind": "he"}}, )"
                 R"({"name": "fc", "op": "matmul", "inputs": ["x", "W"]})"),
       {"node 'fc' (matmul)", "[32, 784]", "[100, 10]", "784 == 100"}},
      {"operands of different dtypes",
       file_with(kX + R"(, {"name": "d", "op": "input", "shape": [4, 3], "dtype": "f64"}, )"
                      R"({"name": "s", "op": "add", "inputs": ["x", "d"]})"),
       {"node 's' (add)", "dtypes differ", "f32 and f64"}},
      {"labels of the wrong length",
       file_with(kX + R"(, {"name": "y", "op": "labels", "shape": [5], "classes": 3}, )"
                      R"({"name": "loss", "op": "softmax_cross_entropy", "inputs": ["x", "y"]})"),
       {"node 'loss' (softmax_cross_entropy)", "expected labels of shape [4], found [5]"}},
      {"constant value too short", file_with(R"({"name": "c", "op": "constant", "shape": [2, 3], "value": [[1, 2, 3], [4, 5]]})"),
       {"node 'c' (constant)", "field 'value'", "expected a list of 3 at value[1]", "shape [2, 3]", "found [4, 5]"}},
      {"constant value with a string",
       file_with(R"({"name": "c", "op": "constant", "shape": [2], "value": [1, "two"]})"),
       {"node 'c' (constant)", "field 'value'", "expected a finite number at value[1]", "found \"two\""}},
      {"scalar constant given a list", file_with(R"({"name": "c", "op": "constant", "shape": [], "value": [1]})"),
       {"node 'c' (constant)", "field 'value'", "expected a finite number at value", "found [1]"}},
      {"constant without value", file_with(R"({"name": "c", "op": "constant", "shape": [2]})"),
       {"node 'c' (constant)", "missing field 'value'", "shape [2]"}},
      {"param without init", file_with(R"({"name": "W", "op": "param", "shape": [2]})"),
       {"node 'W' (param)", "missing field 'init'"}},
      {"init of unknown kind", file_with(R"({"name": "W", "op": "param", "shape": [2], "init": {"kind": "glorot"}})"),
       {"node 'W' (param)", "field 'init'", "unknown kind \"glorot\"", "expected one of zeros, constant, normal"}},
      {"init without kind", file_with(R"({"name": "W", "op": "param", "shape": [2], "init": {"std": 1}})"),
       {"node 'W' (param)", "field 'init'", "missing \"kind\""}},
      {"init not an object", file_with(R"({"name": "W", "op": "param", "shape": [2], "init": "he"})"),
       {"node 'W' (param)", "field 'init'", "expected an object", "found \"he\""}},
      {"init parameter of another kind",
       file_with(R"({"name": "W", "op": "param", "shape": [2], "init": {"kind": "zeros", "std": 0.1}})"),
       {"node 'W' (param)", "field 'init'", "unknown field 'std' for kind \"zeros\"", "it accepts kind, seed"}},
      {"normal init without std",
       file_with(R"({"name": "W", "op": "param", "shape": [2], "init": {"kind": "normal", "mean": 1}})"),
       {"node 'W' (param)", "field 'init'", "missing \"std\"", "kind \"normal\" expects a number"}},
      {"init std not a number",
       file_with(R"({"name": "W", "op": "param", "shape": [2], "init": {"kind": "normal", "std": "small"}})"),
       {"node 'W' (param)", "field 'init'", "\"std\": expected a finite number", "found \"small\""}},
      {"negative std", file_with(R"({"name": "W", "op": "param", "shape": [2], "init": {"kind": "normal", "std": -1}})"),
       {"node 'W' (param)", "\"std\": expected a non-negative number", "found -1"}},
      {"uniform low above high",
       file_with(R"({"name": "W", "op": "param", "shape": [2], "init": {"kind": "uniform", "low": 1, "high": 0}})"),
       {"node 'W' (param)", "field 'init'", "expected \"low\" <= \"high\"", "found 1 > 0"}},
      {"negative seed", file_with(R"({"name": "W", "op": "param", "shape": [2], "init": {"kind": "he", "seed": -5}})"),
       {"node 'W' (param)", "\"seed\": expected a non-negative integer", "found -5"}},
      {"unknown role", file_with(kX + R"(, {"name": "h", "op": "relu", "inputs": ["x"], "role": "sideways"})"),
       {"node 'h' (relu)", "field 'role'", "expected \"forward\", \"backward\" or \"update\"", "found \"sideways\""}},
      {"loss naming no node", file_with(kX, R"(, "loss": "nope")"),
       {"field 'loss'", "expected the name of a node", "found \"nope\"", "names no node"}},
      {"loss not a string", file_with(kX, R"(, "loss": 3)"), {"field 'loss'", "expected a node name", "found 3"}},
      {"non-scalar loss", file_with(kX + R"(, {"name": "h", "op": "relu", "inputs": ["x"]})", R"(, "loss": "h")"),
       {"field 'loss'", "node 'h' (relu)", "must be a scalar", "found shape [4, 3]"}},
      {"duplicate key in a node", file_with(kX + R"(, {"name": "h", "op": "relu", "op": "exp", "inputs": ["x"]})"),
       {"node 'h' (nodes[1])", "duplicate key 'op'"}},
      {"gradients not an object", file_with(kX, R"(, "gradients": ["x"])"),
       {"field 'gradients'", "expected an object mapping node names", "found [\"x\"]"}},
      {"gradient of no node", file_with(kX, R"(, "gradients": {"W": "x"})"),
       {"field 'gradients'", "entry 'W'", "which names no node"}},
      {"gradient naming no node", file_with(kX, R"(, "gradients": {"x": "grad/x"})"),
       {"field 'gradients'", "entry 'x'", "found \"grad/x\", which names no node"}},
      {"gradient of the wrong shape",
       file_with(kX + R"(, {"name": "s", "op": "sum", "inputs": ["x"]})", R"(, "gradients": {"x": "s"})"),
       {"field 'gradients'", "entry 'x'", "node 's' (sum)", "[4, 3]", "found []"}},
      {"duplicate key after the nodes", R"({"format": "kiln-graph", "version": 1, "nodes": [], "nodes": []})",
       {"bad.json: duplicate key 'nodes'"}},
      {"duplicate top-level key", R"({"format": "kiln-graph", "version": 1, "version": 1, "nodes": []})",
       {"duplicate key 'version'"}},
      {"get_output of a single-output node",
       file_with(kX + R"(, {"name": "g", "op": "get_output", "inputs": ["x"], "index": 1})"),
       {"node 'g' (get_output)", "expected an input with several outputs", "inputs 'x' [4, 3]"}},
      {"get_output index past the outputs", file_with(kX + ", " + kY + ", " + kFused +
                                                      R"(, {"name": "g", "op": "get_output", "inputs": ["l"], "index": 2})"),
       {"node 'g' (get_output)", "expected an output index in [1, 2), found 2"}},
      {"get_output index 0", file_with(kX + ", " + kY + ", " + kFused +
                                       R"(, {"name": "g", "op": "get_output", "inputs": ["l"], "index": 0})"),
       {"node 'g' (get_output)", "field 'index'", "expected a positive integer, found 0"}},
      {"get_output without an index",
       file_with(kX + ", " + kY + ", " + kFused + R"(, {"name": "g", "op": "get_output", "inputs": ["l"]})"),
       {"node 'g' (get_output)", "missing field 'index'"}},
      {"two get_output nodes for one output",
       file_with(kX + ", " + kY + ", " + kFused +
                 R"(, {"name": "g", "op": "get_output", "inputs": ["l"], "index": 1})"
                 R"(, {"name": "h", "op": "get_output", "inputs": ["l"], "index": 1})"),
       {"node 'h' (get_output)", "output 1 of node 'l' (softmax_cross_entropy_with_grad) is already read by 'g'"}},
  };
  return cases;
}

}  // namespace

TEST_CASE("bad graph files are rejected with messages that name node, field, expected and found", "[json]") {
  REQUIRE(bad_inputs().size() >= 20);
  for (const BadInput& bad : bad_inputs()) {
    INFO("case: " << bad.what << "\nfile: " << bad.text);
    try {
      parse_graph_json(bad.text, "bad.json");
      FAIL("accepted a bad file");
    } catch (const Error& e) {
      const std::string message = e.what();
      INFO("message: " << message);
      CHECK_THAT(message, Catch::StartsWith("bad.json:"));
      for (const std::string& fragment : bad.message_has) CHECK_THAT(message, Catch::Contains(fragment));
    }
  }
}

TEST_CASE("the same files without their defect are accepted", "[json]") {
  // Guards the table above: the bad cases fail for the reason they name, not
  // because the surrounding file is already wrong.
  CHECK_NOTHROW(parse_graph_json(file_with(kX + ", " + kY)));
  CHECK_NOTHROW(parse_graph_json(file_with(kX + R"(, {"name": "h", "op": "relu", "inputs": ["x"]})")));
  CHECK_NOTHROW(parse_graph_json(file_with(kX + R"(, {"name": "s", "op": "sum", "inputs": ["x"], "axis": 1})")));
  CHECK_NOTHROW(parse_graph_json(file_with(kX + R"(, {"name": "s", "op": "scale", "inputs": ["x"], "factor": 0.5})")));
  CHECK_NOTHROW(parse_graph_json(file_with(R"({"name": "c", "op": "constant", "shape": [2, 3], "value": [[1, 2, 3], [4, 5, 6]]})")));
  CHECK_NOTHROW(parse_graph_json(file_with(R"({"name": "W", "op": "param", "shape": [2], "init": {"kind": "uniform", "low": 0, "high": 1, "seed": 5}})")));
  CHECK_NOTHROW(parse_graph_json(file_with(kX + ", " + kY + R"(, {"name": "loss", "op": "softmax_cross_entropy", "inputs": ["x", "y"]})",
                                           R"(, "loss": "loss")")));
  CHECK_NOTHROW(parse_graph_json(file_with(kX + ", " + kY + ", " + kFused +
                                           R"(, {"name": "g", "op": "get_output", "inputs": ["l"], "index": 1})")));
}

namespace {

// Parsing either succeeds or throws kiln::Error; anything else (another
// exception type, a crash) fails the test.
bool parses_or_reports(const std::string& text) {
  try {
    parse_graph_json(text, "mutant.json");
    return true;
  } catch (const Error&) {
    return true;
  } catch (const std::exception& e) {
    FAIL_CHECK("non-kiln exception: " << e.what() << "\nfile: " << text);
    return false;
  }
}

}  // namespace

TEST_CASE("truncated, corrupted and retyped graph files never crash the reader", "[json]") {
  const std::string good = graph_to_json(build_model("spiral-net"));
  for (std::size_t n = 0; n < good.size(); ++n) CHECK(parses_or_reports(good.substr(0, n)));

  std::mt19937 rng(7);
  const std::string alphabet = "{}[]\",:0123456789-.eEtrufalsn x\\";
  for (int k = 0; k < 2000; ++k) {
    std::string mutant = good;
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits)
      mutant[rng() % mutant.size()] = alphabet[rng() % alphabet.size()];
    CHECK(parses_or_reports(mutant));
  }

  // Every field of every node replaced by every kind of JSON value.
  using Json = nlohmann::ordered_json;
  const Json doc = Json::parse(good);
  const std::vector<Json> replacements = {nullptr, true, -1, 0, 1, 2.5, 1e300, "x", "fc1/W", Json::array(),
                                          Json::array({0}), Json::array({1, 2}), Json::object(),
                                          Json::object({{"kind", "normal"}})};
  for (std::size_t i = 0; i < doc["nodes"].size(); ++i)
    for (const auto& [key, value] : doc["nodes"][i].items())
      for (const Json& r : replacements) {
        Json mutant = doc;
        mutant["nodes"][i][key] = r;
        CHECK(parses_or_reports(mutant.dump()));
      }
}

TEST_CASE("deeply nested input is reported, not overflowed", "[json]") {
  const int depth = 100000;
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  CHECK(parses_or_reports(deep));
  CHECK(parses_or_reports(file_with(R"({"name": "x", "op": "input", "shape": )" + deep + "}")));
  CHECK(parses_or_reports(file_with(R"({"name": "c", "op": "constant", "shape": [1], "value": )" + deep + "}")));
}
