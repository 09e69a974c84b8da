// The kiln command as a user meets it: the built binary, run as a process,
// judged by exit code, stdout, stderr and the files it leaves.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "clean_failure.hpp"
#include "process.hpp"

using kiln::test::read_text;
using kiln::test::RunResult;
using kiln::test::TempDir;
using kiln::test::write_text;

namespace {

// GRAPH_FORMAT.md's example, written by hand so the test does not depend on
// kiln's own writer.
const char* kMlpJson = R"({
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
const std::vector<std::string> kMlpNames = {"x", "y", "W1", "b1", "fc1", "fc1b", "h1", "W2", "b2", "logits", "loss"};

RunResult kiln_cli(const std::vector<std::string>& args, const TempDir& dir, const std::string& env = {}) {
  return kiln::test::run_program(KILN_CLI_PATH, args, dir.path(), env);
}

std::string project_version() {
  std::string cmake = read_text(std::string(KILN_SOURCE_DIR) + "/CMakeLists.txt");
  std::smatch m;
  REQUIRE(std::regex_search(cmake, m, std::regex(R"(project\(kiln\s+VERSION\s+([0-9.]+))")));
  return m[1];
}

// The stages `kiln dot --help` says are not available yet.
std::vector<std::string> stages_said_unavailable(const TempDir& dir) {
  RunResult help = kiln_cli({"dot", "--help"}, dir);
  std::vector<std::string> stages;
  std::regex line(R"((\w+): [^\n]*\(not available yet)");
  for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), line); it != std::sregex_iterator(); ++it)
    stages.push_back((*it)[1]);
  return stages;
}

}  // namespace

TEST_CASE("kiln --version prints the project's version", "[cli]") {
  TempDir dir;
  RunResult r = kiln_cli({"--version"}, dir);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "kiln " + project_version() + "\n");
  CHECK(r.err.empty());
}

TEST_CASE("kiln --help and kiln dot --help explain themselves with an example", "[cli]") {
  TempDir dir;
  RunResult top = kiln_cli({"--help"}, dir);
  CHECK(top.exit_code == 0);
  CHECK(top.err.empty());
  CHECK_THAT(top.out, Catch::Contains("computation-graph compiler"));
  CHECK_THAT(top.out, Catch::Contains("dot"));
  CHECK_THAT(top.out, Catch::Contains("Example"));

  RunResult dot = kiln_cli({"dot", "--help"}, dir);
  CHECK(dot.exit_code == 0);
  CHECK(dot.err.empty());
  for (const char* word : {"GRAPH", "--stage", "-o", "input", "fused", "backward", "planned", ".svg", "Examples:",
                           "kiln dot "})
    CHECK_THAT(dot.out, Catch::Contains(word));
}

TEST_CASE("kiln rejects a missing subcommand, an unknown subcommand and unknown flags in one line", "[cli]") {
  TempDir dir;
  write_text(dir / "mlp.json", kMlpJson);
  check_clean_failure(kiln_cli({}, dir));
  check_clean_failure(kiln_cli({"frobnicate"}, dir));

  RunResult flag = kiln_cli({"dot", (dir / "mlp.json").string(), "--bogus"}, dir);
  check_clean_failure(flag);
  CHECK_THAT(flag.err, Catch::Contains("--bogus"));
  CHECK_THAT(flag.err, Catch::Contains("kiln dot --help"));

  RunResult no_graph = kiln_cli({"dot"}, dir);
  check_clean_failure(no_graph);
  CHECK_THAT(no_graph.err, Catch::Contains("GRAPH"));

  RunResult bad_stage = kiln_cli({"dot", (dir / "mlp.json").string(), "--stage", "sideways"}, dir);
  check_clean_failure(bad_stage);
  CHECK_THAT(bad_stage.err, Catch::Contains("sideways"));
}

TEST_CASE("kiln dot prints DOT on stdout with every node of the graph", "[cli][dot]") {
  TempDir dir;
  write_text(dir / "mlp.json", kMlpJson);
  for (const std::vector<std::string>& extra : {std::vector<std::string>{}, {"-o", "-"}, {"--stage", "input"}}) {
    std::vector<std::string> args = {"dot", (dir / "mlp.json").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = kiln_cli(args, dir);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::StartsWith("digraph"));
    CHECK_THAT(r.out, Catch::Contains("mlp: input stage, 11 nodes"));
    for (const auto& name : kMlpNames) CHECK_THAT(r.out, Catch::Contains("<B>" + name + "</B>"));
  }
  CHECK(dir.entries() == std::vector<std::string>{"mlp.json"});
}

TEST_CASE("kiln dot -o FILE.dot writes the same DOT as stdout", "[cli][dot]") {
  TempDir dir;
  write_text(dir / "mlp.json", kMlpJson);
  RunResult printed = kiln_cli({"dot", (dir / "mlp.json").string()}, dir);
  RunResult written = kiln_cli({"dot", (dir / "mlp.json").string(), "-o", (dir / "mlp.dot").string()}, dir);
  CHECK(written.exit_code == 0);
  CHECK_THAT(written.out, Catch::Contains("wrote " + (dir / "mlp.dot").string()));
  CHECK(read_text(dir / "mlp.dot") == printed.out);
  CHECK(dir.entries() == std::vector<std::string>{"mlp.dot", "mlp.json"});  // no temporary left behind
}

TEST_CASE("kiln dot -o FILE.svg renders with graphviz and leaves no temporary files", "[cli][dot]") {
  if (kiln::test::graphviz_dot().empty()) {
    WARN("SKIPPED: graphviz's dot is not installed (apt-get install graphviz)");
    return;
  }
  TempDir dir;
  write_text(dir / "mlp.json", kMlpJson);
  RunResult r = kiln_cli({"dot", (dir / "mlp.json").string(), "-o", (dir / "mlp.svg").string()}, dir);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  std::string svg = read_text(dir / "mlp.svg");
  CHECK_THAT(svg, Catch::Contains("<svg"));
  CHECK_THAT(svg, Catch::Contains("</svg>"));
  CHECK_THAT(svg, Catch::Contains(">logits</text>"));
  CHECK(dir.entries() == std::vector<std::string>{"mlp.json", "mlp.svg"});
}

TEST_CASE("kiln dot -o FILE.svg without graphviz says to install it and writes nothing", "[cli][dot]") {
  TempDir dir;
  write_text(dir / "mlp.json", kMlpJson);
  std::filesystem::create_directory(dir / "empty-bin");
  RunResult r = kiln_cli({"dot", (dir / "mlp.json").string(), "-o", (dir / "mlp.svg").string()}, dir,
                         "PATH=" + (dir / "empty-bin").string());
  check_clean_failure(r);
  CHECK_THAT(r.err, Catch::Contains("graphviz"));
  CHECK_THAT(r.err, Catch::Contains("install"));
  CHECK(dir.entries() == std::vector<std::string>{"empty-bin", "mlp.json"});
}

TEST_CASE("kiln dot on a missing or bad graph file fails in one line and creates no output", "[cli][dot]") {
  TempDir dir;
  std::string out = (dir / "out.dot").string();

  RunResult missing = kiln_cli({"dot", (dir / "nope.json").string(), "-o", out}, dir);
  check_clean_failure(missing);
  CHECK_THAT(missing.err, Catch::Contains("nope.json"));

  write_text(dir / "truncated.json", R"({"format": "kiln-graph", "version": 1, "nodes": [)");
  RunResult truncated = kiln_cli({"dot", (dir / "truncated.json").string(), "-o", out}, dir);
  check_clean_failure(truncated);
  CHECK_THAT(truncated.err, Catch::Contains("truncated.json"));

  // Well-formed JSON, but the shapes do not agree: the culprit node is named.
  std::string mismatched = kMlpJson;
  mismatched.replace(mismatched.find("[784, 100]"), 10, "[783, 100]");
  write_text(dir / "mismatched.json", mismatched);
  RunResult shapes = kiln_cli({"dot", (dir / "mismatched.json").string(), "-o", out}, dir);
  check_clean_failure(shapes);
  CHECK_THAT(shapes.err, Catch::Contains("fc1"));

  CHECK(dir.entries() == std::vector<std::string>{"mismatched.json", "truncated.json"});
}

TEST_CASE("kiln dot keeps an existing output file when it fails", "[cli][dot]") {
  TempDir dir;
  write_text(dir / "bad.json", "{ not json");
  write_text(dir / "out.svg", "previous picture");
  write_text(dir / "out.dot", "previous text");
  check_clean_failure(kiln_cli({"dot", (dir / "bad.json").string(), "-o", (dir / "out.svg").string()}, dir));
  check_clean_failure(kiln_cli({"dot", (dir / "bad.json").string(), "-o", (dir / "out.dot").string()}, dir));
  CHECK(read_text(dir / "out.svg") == "previous picture");
  CHECK(read_text(dir / "out.dot") == "previous text");
  CHECK(dir.entries() == std::vector<std::string>{"bad.json", "out.dot", "out.svg"});
}

TEST_CASE("kiln dot refuses an output name it cannot honour", "[cli][dot]") {
  TempDir dir;
  write_text(dir / "mlp.json", kMlpJson);
  RunResult unknown = kiln_cli({"dot", (dir / "mlp.json").string(), "-o", (dir / "mlp.txt").string()}, dir);
  check_clean_failure(unknown);
  CHECK_THAT(unknown.err, Catch::Contains("mlp.txt"));
  CHECK_THAT(unknown.err, Catch::Contains(".svg"));

  RunResult no_dir =
      kiln_cli({"dot", (dir / "mlp.json").string(), "-o", (dir / "missing-dir" / "mlp.dot").string()}, dir);
  check_clean_failure(no_dir);
  CHECK_THAT(no_dir.err, Catch::Contains("missing-dir/mlp.dot"));
  CHECK(dir.entries() == std::vector<std::string>{"mlp.json"});
}

TEST_CASE("kiln dot answers a stage that is not available yet with the pass that brings it", "[cli][dot]") {
  TempDir dir;
  write_text(dir / "mlp.json", kMlpJson);
  std::vector<std::string> all = {"input", "fused", "backward", "planned"};
  std::vector<std::string> unavailable = stages_said_unavailable(dir);
  // Every stage either draws the graph or says why it cannot, as its --help promises.
  for (const auto& stage : all) {
    std::string out = (dir / ("mlp-" + stage + ".dot")).string();
    RunResult r = kiln_cli({"dot", (dir / "mlp.json").string(), "--stage", stage, "-o", out}, dir);
    bool said_unavailable = std::find(unavailable.begin(), unavailable.end(), stage) != unavailable.end();
    INFO("stage " << stage);
    if (said_unavailable) {
      check_clean_failure(r);
      CHECK_THAT(r.err, Catch::Contains("stage '" + stage + "' is not available yet"));
      CHECK_THAT(r.err, Catch::Contains("pass"));
      CHECK_FALSE(std::filesystem::exists(out));
    } else {
      CHECK(r.exit_code == 0);
      CHECK_THAT(read_text(out), Catch::StartsWith("digraph"));
    }
  }
  CHECK(std::find(unavailable.begin(), unavailable.end(), "input") == unavailable.end());
}
