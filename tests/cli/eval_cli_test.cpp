// kiln eval scores a checkpoint on the data its training run used.
#include <catch2/catch.hpp>

#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "process.hpp"

using kiln::test::read_text;
using kiln::test::run_program;
using kiln::test::TempDir;

TEST_CASE("kiln eval reports the accuracy the training run reported and a full confusion matrix", "[cli][eval]") {
  TempDir dir;
  const std::string ckpt = (dir / "c.st").string();
  REQUIRE(run_program(KILN_CLI_PATH,
                      {"train", "--epochs", "30", "--seed", "4", "--save", ckpt, "--summary-json",
                       (dir / "s.json").string()},
                      dir.path())
              .exit_code == 0);
  const auto summary = nlohmann::json::parse(read_text(dir / "s.json"));
  const auto r = run_program(KILN_CLI_PATH, {"eval", "logreg", "--load", ckpt, "--batch", "100"}, dir.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  char expected[64];
  std::snprintf(expected, sizeof expected, "accuracy %.4f", summary["test_accuracy"].get<double>());
  CHECK(r.out.find(expected) != std::string::npos);
  // Ten rows of counts after the header; they add up to the 540 test rows.
  std::istringstream is(r.out.substr(r.out.find("true\\pred")));
  std::string line;
  std::getline(is, line);
  long total = 0;
  for (int row = 0; row < 10 && std::getline(is, line); ++row) {
    std::istringstream cells(line);
    long cls = 0, n = 0;
    cells >> cls;
    CHECK(cls == row);
    while (cells >> n) total += n;
  }
  CHECK(total == 540);

  const auto wrong = run_program(KILN_CLI_PATH, {"eval", "spiral-net", "--load", ckpt}, dir.path());
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.err.find("does not match the model") != std::string::npos);
}
