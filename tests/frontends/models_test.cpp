// The built-in seed models: their architecture, options, and their checked-in
// JSON files under examples/graphs/.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "frontends/json.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "json_round_trip.hpp"

using namespace kiln;

namespace {

// name -> shape of every param, in creation order.
std::vector<std::pair<std::string, Shape>> params_of(const Graph& g) {
  std::vector<std::pair<std::string, Shape>> out;
  for (NodeId id : g.ids())
    if (g[id].op == OpKind::param) out.emplace_back(g[id].name, g[id].shape);
  return out;
}

const Node& node(const Graph& g, std::string_view name) { return g[g.at(name)]; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("model_names lists the four seed models", "[models]") {
  CHECK(model_names() == std::vector<std::string>{"logreg", "mlp", "spiral-net", "moons-net"});
}

TEST_CASE("logreg is a zero-initialised 64 -> 10 softmax regression over 1257 digits", "[models]") {
  Graph g = build_model("logreg");
  verify(g);
  CHECK(node(g, "x").shape == Shape{1257, 64});
  CHECK(node(g, "y").shape == Shape{1257});
  CHECK(node(g, "y").attrs.classes == 10);
  CHECK(params_of(g) == std::vector<std::pair<std::string, Shape>>{{"fc1/W", {64, 10}}, {"fc1/b", {10}}});
  CHECK(node(g, "fc1/W").attrs.init == Init::zeros());
  CHECK(node(g, "fc1/b").attrs.init == Init::zeros());
  CHECK(parameter_count(g) == 64 * 10 + 10);
  REQUIRE(g.loss());
  CHECK(g[*g.loss()].op == OpKind::softmax_cross_entropy);
  CHECK(g.inputs(*g.loss()) == std::vector<NodeId>{g.at("fc1/add"), g.at("y")});
  CHECK_FALSE(g.find("fc1/relu"));
}

TEST_CASE("mlp is 784-100-200-10 with N(0, 0.01^2) weights and zero biases", "[models]") {
  Graph g = build_model("mlp");
  verify(g);
  CHECK(node(g, "x").shape == Shape{32, 784});
  CHECK(params_of(g) == std::vector<std::pair<std::string, Shape>>{{"fc1/W", {784, 100}},
                                                                   {"fc1/b", {100}},
                                                                   {"fc2/W", {100, 200}},
                                                                   {"fc2/b", {200}},
                                                                   {"fc3/W", {200, 10}},
                                                                   {"fc3/b", {10}}});
  CHECK(parameter_count(g) == 784 * 100 + 100 + 100 * 200 + 200 + 200 * 10 + 10);
  for (const char* w : {"fc1/W", "fc2/W", "fc3/W"}) CHECK(node(g, w).attrs.init == Init::normal(0.01));
  for (const char* b : {"fc1/b", "fc2/b", "fc3/b"}) CHECK(node(g, b).attrs.init == Init::zeros());
  // ReLU after each hidden layer, none after the output layer.
  CHECK(g.inputs(g.at("fc1/relu")) == std::vector<NodeId>{g.at("fc1/add")});
  CHECK(g.inputs(g.at("fc2/matmul"))[0] == g.at("fc1/relu"));
  CHECK(g.inputs(g.at("fc3/matmul"))[0] == g.at("fc2/relu"));
  CHECK_FALSE(g.find("fc3/relu"));
  CHECK(g.inputs(*g.loss()) == std::vector<NodeId>{g.at("fc3/add"), g.at("y")});
}

TEST_CASE("spiral-net is 2-100-3 with loss = cross-entropy + 0.5 * 1e-3 * (|W1|^2 + |W2|^2)", "[models]") {
  Graph g = build_model("spiral-net");
  verify(g);
  CHECK(node(g, "x").shape == Shape{300, 2});
  CHECK(node(g, "y").attrs.classes == 3);
  CHECK(params_of(g) == std::vector<std::pair<std::string, Shape>>{
                            {"fc1/W", {2, 100}}, {"fc1/b", {100}}, {"fc2/W", {100, 3}}, {"fc2/b", {3}}});
  CHECK(node(g, "fc1/W").attrs.init == Init::normal(0.01));
  CHECK(parameter_count(g) == 2 * 100 + 100 + 100 * 3 + 3);

  // loss = add(data_loss, scale(add(l2(W1), l2(W2)), λ)); l2 is 0.5·Σx², so
  // the scale factor is λ itself.
  REQUIRE(g.loss());
  const NodeId loss = *g.loss();
  CHECK(g[loss].op == OpKind::add);
  const auto terms = g.inputs(loss);
  REQUIRE(terms.size() == 2);
  CHECK(g[terms[0]].op == OpKind::softmax_cross_entropy);
  const Node& reg = g[terms[1]];
  REQUIRE(reg.op == OpKind::scale);
  CHECK(reg.attrs.factor == 1e-3);
  const NodeId sum = g.inputs(terms[1])[0];
  CHECK(g[sum].op == OpKind::add);
  std::vector<std::string> penalised;
  for (NodeId t : g.inputs(sum)) {
    REQUIRE(g[t].op == OpKind::l2);
    penalised.push_back(g[g.inputs(t)[0]].name);
  }
  CHECK(penalised == std::vector<std::string>{"fc1/W", "fc2/W"});
}

TEST_CASE("moons-net is 2-264-2-2 with He init over batches of 1000", "[models]") {
  Graph g = build_model("moons-net");
  verify(g);
  CHECK(node(g, "x").shape == Shape{1000, 2});
  CHECK(node(g, "y").attrs.classes == 2);
  CHECK(params_of(g) == std::vector<std::pair<std::string, Shape>>{{"fc1/W", {2, 264}},
                                                                   {"fc1/b", {264}},
                                                                   {"fc2/W", {264, 2}},
                                                                   {"fc2/b", {2}},
                                                                   {"fc3/W", {2, 2}},
                                                                   {"fc3/b", {2}}});
  for (const char* w : {"fc1/W", "fc2/W", "fc3/W"}) CHECK(node(g, w).attrs.init == Init::he());
  CHECK(g.find("fc2/relu"));
  CHECK_FALSE(g.find("fc3/relu"));
  CHECK_FALSE(g.find("reg_loss"));
}

TEST_CASE("model options override batch, hidden sizes, dtype and weight decay", "[models]") {
  ModelOptions o;
  o.batch = 8;
  o.hidden = {16};
  o.dtype = DType::f64;
  Graph g = build_model("mlp", o);
  verify(g);
  CHECK(node(g, "x").shape == Shape{8, 784});
  CHECK(node(g, "x").dtype == DType::f64);
  CHECK(node(g, "y").dtype == DType::i32);
  CHECK(params_of(g) == std::vector<std::pair<std::string, Shape>>{
                            {"fc1/W", {784, 16}}, {"fc1/b", {16}}, {"fc2/W", {16, 10}}, {"fc2/b", {10}}});
  CHECK(node(g, "fc2/W").dtype == DType::f64);
  CHECK(g[*g.loss()].dtype == DType::f64);

  ModelOptions decay;
  decay.weight_decay = 0.5;
  Graph with_decay = build_model("moons-net", decay);
  verify(with_decay);
  CHECK(node(with_decay, "reg_loss").attrs.factor == 0.5);
  int l2_terms = 0;
  for (NodeId id : with_decay.ids()) l2_terms += with_decay[id].op == OpKind::l2;
  CHECK(l2_terms == 3);

  ModelOptions none;
  none.weight_decay = 0;
  Graph plain = build_model("spiral-net", none);
  CHECK_FALSE(plain.find("reg_loss"));
  CHECK(plain[*plain.loss()].op == OpKind::softmax_cross_entropy);
}

TEST_CASE("bad model requests name what is wrong", "[models]") {
  CHECK_THROWS_WITH(build_model("resnet"), Catch::Contains("unknown model 'resnet'") &&
                                               Catch::Contains("logreg, mlp, spiral-net, moons-net"));
  ModelOptions hidden;
  hidden.hidden = {10};
  CHECK_THROWS_WITH(build_model("logreg", hidden), Catch::Contains("'logreg' has no hidden layers"));
  ModelOptions zero;
  zero.hidden = {100, 0};
  CHECK_THROWS_WITH(build_model("mlp", zero), Catch::Contains("positive hidden layer sizes") && Catch::Contains("0"));
  ModelOptions batch;
  batch.batch = -4;
  CHECK_THROWS_WITH(build_model("mlp", batch), Catch::Contains("batch") && Catch::Contains("-4"));
}

TEST_CASE("hidden sizes parse from the command line form", "[models]") {
  CHECK(parse_hidden_sizes("100,200") == std::vector<std::int64_t>{100, 200});
  CHECK(parse_hidden_sizes("264") == std::vector<std::int64_t>{264});
  for (const char* bad : {"", "100,", ",100", "100,,200", "1e3", "-5", "0", "10 0", "abc", "99999999999999999999"})
    CHECK_THROWS_WITH(parse_hidden_sizes(bad), Catch::Contains("expected positive integers"));
  CHECK_THROWS_WITH(parse_hidden_sizes("100,x"), Catch::Contains("found 'x'"));
}

TEST_CASE("model_summary lists params and the parameter count", "[models]") {
  std::string s = model_summary(build_model("spiral-net"));
  CHECK_THAT(s, Catch::Contains("fc1/W [2, 100] f32"));
  CHECK_THAT(s, Catch::Contains("fc2/b [3] f32"));
  CHECK_THAT(s, Catch::Contains("parameter count: 603"));
  CHECK_THAT(s, Catch::Contains("loss: loss"));
}

TEST_CASE("every seed model round-trips through JSON", "[models][json]") {
  for (const std::string& name : model_names()) {
    INFO("model " << name);
    kiln::test::require_round_trip(build_model(name));
    ModelOptions o;
    o.batch = 3;
    o.dtype = DType::f64;
    o.weight_decay = 0.25;
    kiln::test::require_round_trip(build_model(name, o));
  }
}

TEST_CASE("every seed model after autodiff round-trips, gradients and roles included", "[models][json]") {
  for (const std::string& name : model_names()) {
    INFO("model " << name);
    Graph trained = autodiff(build_model(name));
    REQUIRE_FALSE(trained.gradients().empty());
    std::string text = kiln::test::require_round_trip(trained);
    CHECK_THAT(text, Catch::Contains("\"gradients\": {") && Catch::Contains("\"role\": \"backward\""));
    verify(parse_graph_json(text));
  }
}

TEST_CASE("examples/graphs/*.json are exactly what the models write", "[models][json]") {
  // If this fails after a deliberate model change, regenerate the files with
  // the example programs (example_mlp examples/graphs/mlp.json, ...).
  const std::map<std::string, std::string> files = {
      {"logreg", "logreg"}, {"mlp", "mlp"}, {"spiral-net", "spiral"}, {"moons-net", "moons"}};
  for (const auto& [model, file] : files) {
    const std::string path = std::string(KILN_SOURCE_DIR) + "/examples/graphs/" + file + ".json";
    INFO(path);
    const std::string text = read_text(path);
    const Graph built = build_model(model);
    CHECK(text == graph_to_json(built));
    Graph loaded = load_graph_file(path);
    verify(loaded);
    CHECK(graph_to_json(loaded) == text);
    kiln::test::require_round_trip(loaded);
  }
}
