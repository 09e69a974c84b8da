// Params initialised from tensor files ({"kind": "file"}): the values read
// when the graph is read, paths relative to the graph file, the reference
// written back unchanged, and every way the file can fail named in one line.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <random>
#include <string>

#include "frontends/json.hpp"
#include "frontends/train/model_graph.hpp"
#include "graph/error.hpp"
#include "runtime/checkpoint.hpp"
#include "runtime/npy.hpp"
#include "runtime/params.hpp"
#include "tests/cli/process.hpp"

using namespace kiln;
using Catch::Matchers::Contains;
using kiln::test::TempDir;
using kiln::test::write_text;

namespace {

Tensor random_tensor(Shape shape, DType dtype, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Tensor t(std::move(shape), dtype);
  for (std::size_t i = 0; i < t.numel(); ++i) t.set(i, u(rng));
  return t;
}

// weights.safetensors (W f32 [3, 2], W64 f64 [2]) and bias.npy (f32 [2]) in `dir`.
struct TensorFiles {
  Tensor w = random_tensor({3, 2}, DType::f32, 1);
  Tensor w64 = random_tensor({2}, DType::f64, 2);
  Tensor b = random_tensor({2}, DType::f32, 3);
  explicit TensorFiles(const std::filesystem::path& dir) {
    Checkpoint c;
    c.tensors.emplace("fc.weight", w);
    c.tensors.emplace("other.w64", w64);
    save_checkpoint((dir / "weights.safetensors").string(), c);
    write_npy((dir / "bias.npy").string(), b);
  }
};

std::string graph_text(const std::string& weight_init, const std::string& bias_init = R"({"kind": "zeros"})") {
  return R"({"format": "kiln-graph", "version": 1, "nodes": [
    {"name": "x", "op": "input", "shape": [4, 3]},
    {"name": "W", "op": "param", "shape": [3, 2], "init": )" +
         weight_init + R"(},
    {"name": "b", "op": "param", "shape": [2], "init": )" +
         bias_init + R"(},
    {"name": "h", "op": "affine", "inputs": ["x", "W", "b"]}
  ]})";
}

const std::string kWeight = R"({"kind": "file", "path": "weights.safetensors", "tensor": "fc.weight"})";
const std::string kBias = R"({"kind": "file", "path": "bias.npy"})";

// Changes the working directory for one scope.
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const std::filesystem::path& to) : before_(std::filesystem::current_path()) {
    std::filesystem::current_path(to);
  }
  ~WorkingDirectory() { std::filesystem::current_path(before_); }

 private:
  std::filesystem::path before_;
};

}  // namespace

TEST_CASE("file inits read a safetensors tensor and a .npy array beside the graph file", "[json][init_file]") {
  TempDir dir;
  TensorFiles files(dir.path());
  write_text(dir / "g.json", graph_text(kWeight, kBias));
  TempDir elsewhere;
  WorkingDirectory cwd(elsewhere.path());  // relative to the graph file, not to here

  Graph g = load_graph_file((dir / "g.json").string());
  const Init& w = g[g.at("W")].attrs.init;
  CHECK(w.kind == Init::Kind::file);
  CHECK(w.path == "weights.safetensors");
  CHECK(w.tensor == "fc.weight");
  REQUIRE(w.values);
  CHECK(*w.values == files.w.values());
  CHECK(g[g.at("b")].attrs.init.tensor.empty());

  ParamStore params;
  params.initialise(g, 7);
  CHECK(params.get("W").values() == files.w.values());
  CHECK(params.get("b").values() == files.b.values());

  // Written back as the same reference, read back to the same values.
  const std::string text = graph_to_json(g);
  CHECK_THAT(text, Contains(R"("init": {"kind": "file", "path": "weights.safetensors", "tensor": "fc.weight"})"));
  CHECK_THAT(text, Contains(R"("init": {"kind": "file", "path": "bias.npy"})"));
  save_graph_file(g, (dir / "again.json").string());
  Graph back = load_graph_file((dir / "again.json").string());
  CHECK(back[back.at("W")].attrs == g[g.at("W")].attrs);
  CHECK(graph_to_json(back) == text);
}

TEST_CASE("a graph parsed from a string resolves file inits against the current directory", "[json][init_file]") {
  TempDir dir;
  TensorFiles files(dir.path());
  {
    WorkingDirectory cwd(dir.path());
    Graph g = parse_graph_json(graph_text(kWeight, kBias));
    CHECK(*g[g.at("W")].attrs.init.values == files.w.values());
  }
  // An absolute path needs no base; an explicit base directory is used as given.
  const std::string absolute = (dir / "bias.npy").string();
  Graph g = parse_graph_json(graph_text(R"({"kind": "zeros"})", R"({"kind": "file", "path": ")" + absolute + "\"}"));
  CHECK(*g[g.at("b")].attrs.init.values == files.b.values());
  Graph based = parse_graph_json(graph_text(kWeight), "<string>", dir.path().string());
  CHECK(*based[based.at("W")].attrs.init.values == files.w.values());
}

TEST_CASE("a file init reads an f64 param's values from an F64 tensor", "[json][init_file]") {
  TempDir dir;
  TensorFiles files(dir.path());
  write_text(dir / "g.json", R"({"format": "kiln-graph", "version": 1, "nodes": [
    {"name": "v", "op": "param", "shape": [2], "dtype": "f64",
     "init": {"kind": "file", "path": "weights.safetensors", "tensor": "other.w64"}}]})");
  Graph g = load_graph_file((dir / "g.json").string());
  ParamStore params;
  params.initialise(g, 0);
  CHECK(params.get("v").dtype() == DType::f64);
  CHECK(params.get("v").values() == files.w64.values());
}

TEST_CASE("Init equality compares file values by content", "[json][init_file]") {
  Init a = Init::from_values({1, 2, 3}, "w.npy");
  Init b = Init::from_values({1, 2, 3}, "w.npy");
  CHECK(a.values != b.values);
  CHECK(a == b);
  CHECK_FALSE(a == Init::from_values({1, 2, 4}, "w.npy"));
  CHECK_FALSE(a == Init::from_values({1, 2, 3}, "v.npy"));
  CHECK_FALSE(a == Init::from_values({1, 2, 3}, "w.safetensors", "t"));
  CHECK_FALSE(a == Init::zeros());
}

TEST_CASE("a param store refuses file values of another count, naming the param", "[json][init_file]") {
  Graph g;
  Attrs attrs;
  attrs.init = Init::from_values({1, 2, 3}, "w.npy");
  g.add_explicit(OpKind::param, {}, Shape{2, 2}, DType::f32, attrs, "W");
  ParamStore params;
  CHECK_THROWS_WITH(params.initialise(g, 0), Contains("param 'W'") && Contains("'w.npy'") &&
                                                 Contains("holds 3 values, expected 4 for shape [2, 2]"));
}

TEST_CASE("training keeps file inits unless --init replaces them", "[json][init_file][train]") {
  TempDir dir;
  TensorFiles files(dir.path());
  write_text(dir / "g.json", graph_text(kWeight, kBias));
  Graph g = load_graph_file((dir / "g.json").string());
  Graph rebatched = train::edit_graph(g, {.batch = 9, .init = std::nullopt, .drop_loss = false});
  CHECK(rebatched[rebatched.at("W")].attrs.init == g[g.at("W")].attrs.init);
  Graph replaced = train::edit_graph(g, {.batch = std::nullopt, .init = Init::he(), .drop_loss = false});
  CHECK(replaced[replaced.at("W")].attrs.init == Init::he());
  CHECK(train::init_to_string(g[g.at("W")].attrs.init) == "file:weights.safetensors#fc.weight");
}

TEST_CASE("file init errors name the graph file, the node, the init file and the tensor", "[json][init_file]") {
  TempDir dir;
  TensorFiles files(dir.path());
  write_text(dir / "garbage.safetensors", "not a safetensors file at all");
  write_text(dir / "garbage.npy", "\x93NUMPY nonsense");
  std::filesystem::create_directory(dir / "folder.npy");
  struct Bad {
    std::string init;
    std::vector<std::string> message_has;
  };
  const std::vector<Bad> cases = {
      {R"({"kind": "file", "path": "missing.safetensors", "tensor": "fc.weight"})",
       {"init file 'missing.safetensors'", "tensor 'fc.weight'", "no such file"}},
      {R"({"kind": "file", "path": "weights.safetensors", "tensor": "fc1.weight"})",
       {"tensor 'fc1.weight'", "has no tensor of that name", "it holds fc.weight, other.w64"}},
      {R"({"kind": "file", "path": "weights.safetensors", "tensor": "other.w64"})",
       {"tensor 'other.w64'", "expected f32 [3, 2] like the param, found f64 [2]"}},
      {R"({"kind": "file", "path": "bias.npy"})", {"init file 'bias.npy'", "expected f32 [3, 2]", "found f32 [2]"}},
      {R"({"kind": "file", "path": "garbage.safetensors", "tensor": "fc.weight"})",
       {"init file 'garbage.safetensors'", "tensor 'fc.weight'", "expected"}},
      {R"({"kind": "file", "path": "garbage.npy"})", {"init file 'garbage.npy'", "expected"}},
      {R"({"kind": "file", "path": "folder.npy"})", {"init file 'folder.npy'", "expected a regular file"}},
      {R"({"kind": "file", "path": "weights.safetensors"})", {"missing \"tensor\"", "say which one"}},
      {R"({"kind": "file", "path": "bias.npy", "tensor": "b"})", {"a .npy file holds one array", "remove \"tensor\""}},
      {R"({"kind": "file", "path": "weights.pt"})", {"ending in .safetensors or .npy", "found \"weights.pt\""}},
      {R"({"kind": "file"})", {"missing \"path\""}},
      {R"({"kind": "file", "path": "bias.npy", "seed": 3})", {"unknown field 'seed' for kind \"file\""}},
  };
  for (const Bad& bad : cases) {
    write_text(dir / "g.json", graph_text(bad.init));
    const std::string graph_path = (dir / "g.json").string();
    std::string message = "no error";
    try {
      load_graph_file(graph_path);
    } catch (const Error& e) {
      message = e.what();
    }
    INFO(bad.init << "\n" << message);
    CHECK(message.rfind(graph_path + ": node 'W' (param): field 'init': ", 0) == 0);
    for (const std::string& part : bad.message_has) CHECK_THAT(message, Contains(part));
    CHECK(message.find('\n') == std::string::npos);
  }
}
