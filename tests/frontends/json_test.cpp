// Graph files: every graph the builder can make is written and read back
// identically, node by node and byte by byte.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "frontends/builder.hpp"
#include "frontends/json.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"
#include "graph/verify.hpp"
#include "passes/pipeline.hpp"
#include "json_round_trip.hpp"

using namespace kiln;
using kiln::test::require_round_trip;

// Every op's attributes round-trip in the op table (tests/ops); what it does
// not vary is the param init, whose fields depend on its kind.
TEST_CASE("params of every init kind round-trip with only their kind's fields", "[json]") {
  Builder g;
  g.param("p_zeros", {2}, Init::zeros());
  g.param("p_const", {2}, Init::constant(-0.125));
  g.param("p_normal", {2, 2}, Init::normal(0.01));
  g.param("p_normal_mean", {2}, Init::normal(0.3, -1.0 / 3.0));
  g.param("p_uniform", {2}, Init::uniform(-0.05, 0.05));
  g.param("p_xavier", {3, 2}, Init::xavier(), DType::f64);
  Init seeded = Init::he();
  seeded.seed = 18446744073709551615ull;
  g.param("p_he_seeded", {3, 2}, seeded);
  Init seeded_normal = Init::normal(2.0);
  seeded_normal.seed = 0;
  g.param("p_normal_seeded", {1}, seeded_normal);
  verify(g.graph());
  const std::string text = require_round_trip(g.graph());
  CHECK(text.find("\"mean\"") != std::string::npos);
  CHECK(text.find("18446744073709551615") != std::string::npos);
}

TEST_CASE("every seed model's compiled graph, two-output loss included, round-trips", "[json][multi_output]") {
  for (const std::string& model : model_names()) {
    INFO(model);
    CompiledGraph compiled = run_pipeline(build_model(model));
    bool has_two_outputs = false;
    for (NodeId id : compiled.graph.ids()) has_two_outputs = has_two_outputs || compiled.graph[id].op == OpKind::get_output;
    CHECK(has_two_outputs);
    const std::string text = require_round_trip(compiled.graph);
    CHECK_THAT(text, Catch::Contains("\"op\": \"get_output\""));
    CHECK_THAT(text, Catch::Contains("\"index\": 1"));
    verify(parse_graph_json(text));
  }
}

TEST_CASE("a graph after autodiff-style tagging keeps roles and the loss", "[json]") {
  Builder g;
  auto x = g.input("x", {8, 2});
  auto y = g.labels("y", 8, 2);
  auto logits = dense(g, relu(dense(g, x, 4, "fc1"), "fc1/relu"), 2, "fc2");
  g.set_loss(softmax_cross_entropy(logits, y, "loss"));
  Graph& graph = g.graph();
  Attrs one;
  one.value = {1.0};
  NodeId seed = graph.add_explicit(OpKind::constant, {}, Shape{}, DType::f32, one, "grad/loss", Role::backward);
  NodeId dz = graph.add(OpKind::softmax_cross_entropy_grad, {logits.id(), y.id(), seed}, {}, "grad/logits",
                        Role::backward);
  NodeId w = graph.at("fc2/W");
  NodeId h = graph.at("fc1/relu");
  Attrs t;
  t.transpose_a = true;
  NodeId dw = graph.add(OpKind::matmul, {h, dz}, t, "grad/fc2/W", Role::backward);
  Attrs lr;
  lr.factor = -0.05;
  NodeId step = graph.add(OpKind::scale, {dw}, lr, "update/fc2/W/step", Role::update);
  graph.add(OpKind::add, {w, step}, {}, "update/fc2/W", Role::update);

  std::string text = require_round_trip(graph);
  CHECK_THAT(text, Catch::Contains("\"role\": \"backward\""));
  CHECK_THAT(text, Catch::Contains("\"role\": \"update\""));
  CHECK_THAT(text, Catch::Contains("\"loss\": \"loss\""));
}

TEST_CASE("graph_to_json writes one node per line, only the fields each op takes", "[json]") {
  Builder g;
  auto x = g.input("x", {32, 784});
  auto y = g.labels("y", 32, 10);
  auto w = g.param("W1", {784, 10}, Init::normal(0.01));
  auto b = g.param("b1", {10}, Init::zeros(), DType::f32);
  auto z = matmul(x, w, false, false, "fc1");
  g.set_loss(softmax_cross_entropy(add(z, b, "fc1b"), y, "loss"));
  const std::string expected = R"({
  "format": "kiln-graph",
  "version": 1,
  "nodes": [
    {"name": "x",    "op": "input",  "shape": [32, 784]},
    {"name": "y",    "op": "labels", "shape": [32], "classes": 10},
    {"name": "W1",   "op": "param",  "shape": [784, 10], "init": {"kind": "normal", "std": 0.01}},
    {"name": "b1",   "op": "param",  "shape": [10], "init": {"kind": "zeros"}},
    {"name": "fc1",  "op": "matmul", "inputs": ["x", "W1"]},
    {"name": "fc1b", "op": "add",    "inputs": ["fc1", "b1"]},
    {"name": "loss", "op": "softmax_cross_entropy", "inputs": ["fc1b", "y"]}
  ],
  "loss": "loss"
}
)";
  CHECK(graph_to_json(g.graph()) == expected);
  require_round_trip(g.graph());
}

TEST_CASE("the GRAPH_FORMAT.md example reads as documented", "[json]") {
  const std::string example = R"({
  "format": "kiln-graph",
  "version": 1,
  "nodes": [
    {"name": "x",      "op": "input",  "shape": [32, 784]},
    {"name": "y",      "op": "labels", "shape": [32], "classes": 10},
    {"name": "W1",     "op": "param",  "shape": [784, 100], "init": {"kind": "normal", "std": 0.01}},
    {"name": "b1",     "op": "param",  "shape": [100],      "init": {"kind": "zeros"}},
    {"name": "fc1",    "op": "matmul", "inputs": ["x", "W1"]},
    {"name": "fc1b",   "op": "add",    "inputs": ["fc1", "b1"]},
    {"name": "h1",     "op": "relu",   "inputs": ["fc1b"]},
    {"name": "W2",     "op": "param",  "shape": [100, 10],  "init": {"kind": "he"}},
    {"name": "b2",     "op": "param",  "shape": [10],       "init": {"kind": "zeros"}},
    {"name": "logits", "op": "affine", "inputs": ["h1", "W2", "b2"]},
    {"name": "loss",   "op": "softmax_cross_entropy", "inputs": ["logits", "y"]}
  ],
  "loss": "loss"
})";
  Graph g = parse_graph_json(example, "GRAPH_FORMAT.md");
  REQUIRE(g.size() == 11);
  CHECK(g[g.at("W1")].attrs.init == Init::normal(0.01));
  CHECK(g[g.at("W2")].attrs.init == Init::he());
  CHECK(g[g.at("y")].dtype == DType::i32);
  CHECK(g[g.at("y")].attrs.classes == 10);
  CHECK(g[g.at("logits")].shape == Shape{32, 10});
  CHECK(g.inputs(g.at("logits")) == std::vector<NodeId>{g.at("h1"), g.at("W2"), g.at("b2")});
  REQUIRE(g.loss());
  CHECK(g[*g.loss()].name == "loss");
  verify(g);
  require_round_trip(g);
}

TEST_CASE("doubles survive the round trip bit for bit", "[json]") {
  std::mt19937_64 rng(20240611);
  std::vector<double> values;
  std::uniform_int_distribution<std::uint64_t> bits;
  while (values.size() < 500) {
    // Random bit patterns cover every exponent, subnormals included.
    std::uint64_t u = bits(rng);
    double d;
    std::memcpy(&d, &u, sizeof d);
    if (std::isfinite(d)) values.push_back(d);
  }
  for (double d : {0.1, 1.0 / 3.0, 1e-3, -0.0, 5e-324, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::min(), 9007199254740993.0, 123456789012345678.0})
    values.push_back(d);
  Builder g;
  g.constant("many", Shape{static_cast<std::int64_t>(values.size())}, values, DType::f64);
  auto x = g.input("x", {2});
  scale(x, values[7], "scaled");
  g.param("p", {2}, Init::uniform(values[1] < values[2] ? values[1] : values[2], std::max(values[1], values[2])));
  Graph back = parse_graph_json(require_round_trip(g.graph()));
  const std::vector<double>& read = back[back.at("many")].attrs.value;
  REQUIRE(read.size() == values.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    INFO("value " << k);
    CHECK(std::memcmp(&read[k], &values[k], sizeof(double)) == 0);  // -0.0 stays -0.0
  }
}

TEST_CASE("numbers JSON cannot hold are refused when writing", "[json]") {
  Builder g;
  g.constant("c", {2}, {1.0, std::numeric_limits<double>::infinity()});
  try {
    graph_to_json(g.graph());
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("node 'c' (constant)") && Catch::Contains("field 'value'") &&
                             Catch::Contains("finite"));
  }
  Builder h;
  h.param("p", {2}, Init::normal(std::numeric_limits<double>::quiet_NaN()));
  CHECK_THROWS_WITH(graph_to_json(h.graph()), Catch::Contains("node 'p' (param)") && Catch::Contains("field 'init'"));
}

TEST_CASE("an empty graph round-trips", "[json]") {
  Graph g;
  std::string text = require_round_trip(g);
  CHECK_THAT(text, Catch::Contains("\"nodes\": []"));
}

TEST_CASE("optional fields with their default values read like absent ones", "[json]") {
  Graph g = parse_graph_json(R"({"format": "kiln-graph", "version": 1, "nodes": [
      {"name": "a", "op": "input", "shape": [2, 3], "dtype": "f32", "role": "forward"},
      {"name": "b", "op": "input", "shape": [3, 2], "dtype": "f64"},
      {"name": "c", "op": "matmul", "inputs": ["a", "a"], "transpose_a": false, "transpose_b": true},
      {"name": "p", "op": "param", "shape": [2], "init": {"kind": "normal", "mean": 0, "std": 1, "seed": 7}}]})");
  CHECK(g[g.at("a")].dtype == DType::f32);
  CHECK(g[g.at("a")].role == Role::forward);
  CHECK(g[g.at("b")].dtype == DType::f64);
  CHECK(g[g.at("c")].shape == Shape{2, 2});
  CHECK_FALSE(g.loss());
  Init expected = Init::normal(1.0);
  expected.seed = 7;
  CHECK(g[g.at("p")].attrs.init == expected);
  std::string text = graph_to_json(g);
  CHECK_THAT(text, !Catch::Contains("\"f32\"") && !Catch::Contains("transpose_a") && !Catch::Contains("forward") &&
                       !Catch::Contains("\"mean\""));
}

TEST_CASE("graph files are saved atomically and loaded back", "[json]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(KILN_BINARY_DIR) / "json_test_files";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Builder g;
  auto x = g.input("x", {4, 2});
  auto y = g.labels("y", 4, 2);
  g.set_loss(softmax_cross_entropy(dense(g, x, 2, "fc"), y, "loss"));
  const std::string path = (dir / "model.json").string();

  save_graph_file(g.graph(), path);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == graph_to_json(g.graph()));
  Graph back = load_graph_file(path);
  CHECK(graph_to_json(back) == text.str());

  // Overwriting keeps exactly one file, and a failed save leaves the old one.
  save_graph_file(back, path);
  Builder bad;
  bad.constant("c", {}, {std::numeric_limits<double>::infinity()});
  CHECK_THROWS_AS(save_graph_file(bad.graph(), path), Error);
  CHECK(graph_to_json(load_graph_file(path)) == text.str());
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir)) left.push_back(entry.path().filename().string());
  CHECK(left == std::vector<std::string>{"model.json"});

  const std::string missing_dir = (dir / "no_such_dir" / "m.json").string();
  CHECK_THROWS_WITH(save_graph_file(g.graph(), missing_dir), Catch::Contains(missing_dir));
  fs::remove_all(dir);
}

TEST_CASE("loading a missing or unreadable graph file names the path", "[json]") {
  const std::string missing = std::string(KILN_BINARY_DIR) + "/does/not/exist.json";
  CHECK_THROWS_WITH(load_graph_file(missing), Catch::Contains(missing) && Catch::Contains("No such file"));
  CHECK_THROWS_WITH(load_graph_file(KILN_BINARY_DIR), Catch::Contains(KILN_BINARY_DIR) &&
                                                          Catch::Contains("directory"));
}

TEST_CASE("errors from a file start with its path and the line of bad JSON", "[json]") {
  namespace fs = std::filesystem;
  const fs::path path = fs::path(KILN_BINARY_DIR) / "json_test_malformed.json";
  {
    std::ofstream out(path);
    out << "{\n  \"format\": \"kiln-graph\",\n  \"version\": 1,\n  \"nodes\": [\n    {\"name\": \"x\" \"op\": \"input\"}\n]}\n";
  }
  try {
    load_graph_file(path.string());
    FAIL("expected an error");
  } catch (const Error& e) {
    std::string m = e.what();
    // nlohmann stops at the end of the unexpected token: the closing quote of "op".
    CHECK_THAT(m, Catch::StartsWith(path.string() + ":5:21: malformed JSON"));
    CHECK_THAT(m, Catch::Contains("line 5, column 21 (byte offset 77)"));
    CHECK_THAT(m, Catch::Contains("unexpected string literal"));
  }
  fs::remove(path);
}
