// kiln import's command line: --supported lists the ONNX operators the
// importer maps, one per line, and the command without a model says what it
// expects.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "frontends/onnx/map_ops.hpp"
#include "process.hpp"

using kiln::test::RunResult;
using kiln::test::TempDir;

TEST_CASE("kiln import --supported prints the ONNX operators it imports, one per line", "[cli][onnx]") {
  TempDir dir;
  RunResult r = kiln::test::run_program(KILN_CLI_PATH, {"import", "--supported"}, dir.path());
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  std::istringstream out(r.out);
  for (std::string line; std::getline(out, line);) lines.push_back(line);
  CHECK(lines == kiln::onnx::supported_op_names());
  CHECK(std::find(lines.begin(), lines.end(), "Softplus") != lines.end());  // from graph/ops.def, no mapper written
}

TEST_CASE("kiln import without a model or without -o names what it expects", "[cli][onnx]") {
  TempDir dir;
  RunResult none = kiln::test::run_program(KILN_CLI_PATH, {"import"}, dir.path());
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("expected MODEL.onnx, the ONNX model to import (or --supported"));
  const std::string model = (dir / "m.onnx").string();
  { std::ofstream(model) << "not read"; }
  RunResult no_output = kiln::test::run_program(KILN_CLI_PATH, {"import", model}, dir.path());
  CHECK(no_output.exit_code == 2);
  CHECK_THAT(no_output.err, Catch::Contains("-o: expected GRAPH.json"));
}
