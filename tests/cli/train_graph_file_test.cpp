// kiln train on graph files as an importer writes them: params initialised
// from tensor files beside the graph.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "process.hpp"
#include "runtime/checkpoint.hpp"

namespace {

using kiln::test::run_program;
using kiln::test::TempDir;
using kiln::test::write_text;

kiln::test::RunResult kiln_train(const std::vector<std::string>& args, const TempDir& dir) {
  std::vector<std::string> all{"train"};
  all.insert(all.end(), args.begin(), args.end());
  return run_program(KILN_CLI_PATH, all, dir.path());
}

// A linear classifier of the digits (64 features, 10 classes) whose W and b
// come from init.safetensors beside it; returns those values.
kiln::Checkpoint write_linear_classifier(const TempDir& dir) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  kiln::Checkpoint init;
  for (auto [name, shape] : {std::pair{"fc.weight", kiln::Shape{64, 10}}, std::pair{"fc.bias", kiln::Shape{10}}}) {
    kiln::Tensor t(shape, kiln::DType::f32);
    for (std::size_t i = 0; i < t.numel(); ++i) t.set(i, u(rng));
    init.tensors.emplace(name, std::move(t));
  }
  kiln::save_checkpoint((dir / "init.safetensors").string(), init);
  write_text(dir / "linear.json", R"({"format": "kiln-graph", "version": 1, "nodes": [
    {"name": "x", "op": "input", "shape": [32, 64]},
    {"name": "y", "op": "labels", "shape": [32], "classes": 10},
    {"name": "W", "op": "param", "shape": [64, 10], "init": {"kind": "file", "path": "init.safetensors", "tensor": "fc.weight"}},
    {"name": "b", "op": "param", "shape": [10], "init": {"kind": "file", "path": "init.safetensors", "tensor": "fc.bias"}},
    {"name": "z", "op": "matmul", "inputs": ["x", "W"]},
    {"name": "logits", "op": "add", "inputs": ["z", "b"]},
    {"name": "loss", "op": "softmax_cross_entropy", "inputs": ["logits", "y"]}
  ], "loss": "loss"})");
  return init;
}

}  // namespace

// A learning rate far below the params' rounding step leaves every param as
// it started, so the checkpoint shows where training started from.
TEST_CASE("kiln train starts a graph's file-initialised params from the file unless --init says otherwise",
          "[cli][train][init_file]") {
  TempDir dir;
  const kiln::Checkpoint init = write_linear_classifier(dir);
  const std::string graph = (dir / "linear.json").string();
  const auto kept = kiln_train({graph, "--data", "digits", "--epochs", "1", "--lr", "1e-30", "--save",
                                (dir / "kept.safetensors").string()},
                               dir);
  INFO(kept.out << kept.err);
  REQUIRE(kept.exit_code == 0);
  CHECK(kept.out.find("init       the model's") != std::string::npos);
  const kiln::Checkpoint trained = kiln::read_checkpoint((dir / "kept.safetensors").string());
  CHECK(trained.tensors.at("W").values() == init.tensors.at("fc.weight").values());
  CHECK(trained.tensors.at("b").values() == init.tensors.at("fc.bias").values());

  const auto replaced = kiln_train({graph, "--data", "digits", "--epochs", "1", "--lr", "1e-30", "--init", "zeros",
                                    "--save", (dir / "zeros.safetensors").string()},
                                   dir);
  REQUIRE(replaced.exit_code == 0);
  for (double v : kiln::read_checkpoint((dir / "zeros.safetensors").string()).tensors.at("W").values())
    CHECK(std::abs(v) < 1e-20);
}

TEST_CASE("kiln train names the graph, the node and the init file when a file init cannot be read",
          "[cli][train][init_file]") {
  TempDir dir;
  write_linear_classifier(dir);
  std::filesystem::remove(dir / "init.safetensors");
  const auto r = kiln_train({(dir / "linear.json").string(), "--data", "digits", "--epochs", "1"}, dir);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("linear.json: node 'W' (param): field 'init': init file 'init.safetensors'") != std::string::npos);
  CHECK(r.err.find("no such file") != std::string::npos);
}

namespace {

// An exported model's shape: an image input [batch, 1, side, side] flattened
// by reshape [0, -1] in front of a linear classifier.
void write_image_classifier(const TempDir& dir, const std::string& name, int side) {
  const std::string features = std::to_string(side * side);
  write_text(dir / name, R"({"format": "kiln-graph", "version": 1, "nodes": [
    {"name": "x", "op": "input", "shape": [32, 1, )" + std::to_string(side) + ", " + std::to_string(side) + R"(]},
    {"name": "y", "op": "labels", "shape": [32], "classes": 10},
    {"name": "flat", "op": "reshape", "inputs": ["x"], "dims": [0, -1]},
    {"name": "W", "op": "param", "shape": [)" + features + R"(, 10], "init": {"kind": "xavier"}},
    {"name": "b", "op": "param", "shape": [10], "init": {"kind": "zeros"}},
    {"name": "z", "op": "matmul", "inputs": ["flat", "W"]},
    {"name": "logits", "op": "add", "inputs": ["z", "b"]},
    {"name": "loss", "op": "softmax_cross_entropy", "inputs": ["logits", "y"]}
  ], "loss": "loss"})");
}

}  // namespace

TEST_CASE("kiln train and eval feed a batch x 1 x 8 x 8 input the digits' 64 features per row",
          "[cli][train][reshape]") {
  TempDir dir;
  write_image_classifier(dir, "image.json", 8);
  const std::string graph = (dir / "image.json").string(), checkpoint = (dir / "image.safetensors").string();
  const auto trained = kiln_train({graph, "--data", "digits", "--epochs", "3", "--batch", "16", "--lr", "0.01",
                                   "--save", checkpoint},
                                  dir);
  INFO(trained.out << trained.err);
  REQUIRE(trained.exit_code == 0);
  CHECK(trained.out.find("64 features, 10 classes") != std::string::npos);
  CHECK(trained.out.find("batches    16 rows") != std::string::npos);

  const auto scored = run_program(KILN_CLI_PATH, {"eval", graph, "--load", checkpoint, "--data", "digits"}, dir.path());
  INFO(scored.out << scored.err);
  REQUIRE(scored.exit_code == 0);
  CHECK(scored.out.find("accuracy ") != std::string::npos);
}

TEST_CASE("kiln train names the input and its shape when a row does not fill it", "[cli][train][reshape]") {
  TempDir dir;
  write_image_classifier(dir, "mnist_shaped.json", 28);
  const auto r = kiln_train({(dir / "mnist_shaped.json").string(), "--data", "digits", "--epochs", "1", "--batch", "32"}, dir);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("has 64 features per row, but model 'mnist_shaped.json' reads 784 (input 'x' [32, 1, 28, 28])") !=
        std::string::npos);
  CHECK(dir.entries().size() == 1);  // the graph file alone: nothing written
}

// A graph file trained on a built-in's dataset takes that built-in's recipe:
// on digits, logreg's full batch instead of the graph's 32 rows per step.
TEST_CASE("kiln train gives a graph file the recipe of the built-in model for its --data", "[cli][train][recipe]") {
  TempDir dir;
  write_linear_classifier(dir);
  const std::string graph = (dir / "linear.json").string();
  const auto summary_of = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{graph, "--epochs", "1", "--summary-json", (dir / "s.json").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = kiln_train(args, dir);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return kiln::test::read_text(dir / "s.json");
  };
  // logreg's recipe: the whole training split (1,257 rows) in one step
  CHECK(summary_of({"--data", "digits"}).find("\"batch_per_rank\": 1257") != std::string::npos);
  // no --data: the generic recipe, the graph's own batch
  CHECK(summary_of({}).find("\"batch_per_rank\": 32") != std::string::npos);
  // an option still replaces its part of the recipe
  CHECK(summary_of({"--data", "digits", "--batch", "16"}).find("\"batch_per_rank\": 16") != std::string::npos);
}
