// Files written before the op system was rebuilt (issue 21) still load and
// mean the same: the example graphs and a backward graph written by commit
// 2353e82 read back and are written out byte for byte as they were, and a
// checkpoint that commit's kiln train wrote scores and resumes as that
// commit's kiln did (tests/data/compat/, made with 2353e82's kiln: `kiln
// compile examples/graphs/mlp.json --dump-after simplify --dump ...` and
// `kiln train examples/graphs/spiral.json --data spiral --epochs 20
// --optimizer adam --save ...`).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "frontends/json.hpp"
#include "process.hpp"

using kiln::test::RunResult;
using kiln::test::TempDir;

namespace {

const std::string kSource = KILN_SOURCE_DIR;

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

RunResult kiln_cli(const std::vector<std::string>& args, const TempDir& dir) {
  return kiln::test::run_program(KILN_CLI_PATH, args, dir.path());
}

}  // namespace

TEST_CASE("graph files written before the typed attributes read back and write out unchanged", "[cli][compat]") {
  for (const char* file : {"examples/graphs/logreg.json", "examples/graphs/mlp.json", "examples/graphs/spiral.json",
                           "examples/graphs/moons.json", "tests/data/compat/mlp_backward_2353e82.json"}) {
    INFO(file);
    const std::string path = kSource + "/" + file;
    CHECK(kiln::graph_to_json(kiln::load_graph_file(path)) == file_text(path));
  }
}

TEST_CASE("a checkpoint written before the typed attributes scores and resumes as it did", "[cli][compat]") {
  TempDir dir;
  const std::string graph = kSource + "/examples/graphs/spiral.json";
  const std::string checkpoint = kSource + "/tests/data/compat/spiral_adam_2353e82.safetensors";
  // What 2353e82's kiln printed for these two commands.
  RunResult eval = kiln_cli({"eval", graph, "--data", "spiral", "--load", checkpoint}, dir);
  REQUIRE(eval.exit_code == 0);
  // Counts and losses to a tolerance: another machine's GEMM backend may
  // round differently in the last digits, and move a row at a class boundary.
  std::smatch scored;
  const std::regex score(R"(accuracy [0-9.]+ \(([0-9]+) of 300\)\s+mean loss ([0-9.]+))");
  REQUIRE(std::regex_search(eval.out, scored, score));
  CHECK(std::abs(std::stoi(scored[1].str()) - 155) <= 1);
  CHECK(std::stod(scored[2].str()) == Approx(0.848497).margin(1e-4));
  RunResult resumed = kiln_cli(
      {"train", graph, "--data", "spiral", "--optimizer", "adam", "--load", checkpoint, "--epochs", "2"}, dir);
  REQUIRE(resumed.exit_code == 0);
  std::smatch epoch;
  REQUIRE(std::regex_search(resumed.out, epoch, std::regex(R"(epoch +21 +loss ([0-9.]+))")));
  CHECK(std::stod(epoch[1].str()) == Approx(1.864998).margin(1e-4));
  std::smatch final_line;
  REQUIRE(std::regex_search(resumed.out, final_line, std::regex(R"(train accuracy ([0-9.]+))")));
  CHECK(std::stod(final_line[1].str()) == Approx(0.5533).margin(1.5 / 300));
}
