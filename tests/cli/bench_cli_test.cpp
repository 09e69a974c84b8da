// kiln bench as a user meets it: what it prints, that --json parses and
// carries figures consistent with the model, and how it refuses bad input.
// Correctness only: no figure here is a time a test could depend on.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "clean_failure.hpp"
#include "process.hpp"

using kiln::test::RunResult;
using kiln::test::TempDir;

namespace {

RunResult kiln_bench(std::vector<std::string> args, const TempDir& dir) {
  args.insert(args.begin(), "bench");
  return kiln::test::run_program(KILN_CLI_PATH, args, dir.path());
}

nlohmann::json bench_json(std::vector<std::string> args, const TempDir& dir) {
  args.push_back("--json");
  RunResult r = kiln_bench(args, dir);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

using GemmDims = std::tuple<int, int, int>;  // m, n, k

// The matrix products of one training step of a dense stack, derived by hand:
// forward x·W per layer, the weight gradient hᵀ·dY per layer, the input
// gradient dY·Wᵀ for every layer but the first (the input needs none).
std::multiset<GemmDims> dense_stack_gemms(const std::vector<int>& sizes, int batch) {
  std::multiset<GemmDims> dims;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    int in = sizes[l], out = sizes[l + 1];
    dims.insert({batch, out, in});
    dims.insert({in, out, batch});
    if (l > 0) dims.insert({batch, in, out});
  }
  return dims;
}

std::multiset<GemmDims> reported_gemms(const nlohmann::json& j) {
  std::multiset<GemmDims> dims;
  for (const auto& g : j.at("gemm_floor").at("gemms"))
    dims.insert(GemmDims{g.at("m").get<int>(), g.at("n").get<int>(), g.at("k").get<int>()});
  return dims;
}

}  // namespace

TEST_CASE("kiln bench prints every figure and one line per GEMM of the plan", "[cli][bench]") {
  TempDir dir;
  RunResult r = kiln_bench({"mlp", "--batch", "4", "--steps", "3", "--warmup", "1"}, dir);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  for (const char* heading : {"model mlp, batch 4, 1 thread, fused", "compile ", "step ", "steps/s", "GFLOP/s",
                              "arena ", "lower bound ", "naive ", "GEMM floor", "step/floor",
                              "through the plan's own GEMM kernels"})
    CHECK_THAT(r.out, Catch::Contains(heading));
  // 8 GEMMs for a 3-layer MLP: one indented line each, with its dimensions.
  std::size_t gemm_lines = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("  ", 0) == 0 && line.find(" x ") != std::string::npos) ++gemm_lines;
  CHECK(gemm_lines == 8);
  CHECK_THAT(r.out, Catch::Contains("    4 x   100 x   784  NN"));
}

TEST_CASE("kiln bench --no-floor leaves the floor out", "[cli][bench]") {
  TempDir dir;
  nlohmann::json j = bench_json({"mlp", "--batch", "4", "--steps", "2", "--no-floor"}, dir);
  CHECK(j.contains("step_us"));
  CHECK_FALSE(j.contains("gemm_floor"));
  CHECK_FALSE(j.contains("gemm_floor_kiln"));
}

TEST_CASE("kiln bench --json carries the plan's GEMMs flops and memory figures", "[cli][bench]") {
  TempDir dir;
  nlohmann::json j = bench_json({"mlp", "--batch", "8", "--steps", "4", "--warmup", "1"}, dir);
  CHECK(j.at("model") == "mlp");
  CHECK(j.at("batch") == 8);
  CHECK(j.at("threads") == 1);
  CHECK(j.at("fused") == true);
  CHECK(j.at("steps") == 4);

  const auto& step = j.at("step_us");
  CHECK(step.at("min").get<double>() > 0);
  CHECK(step.at("min").get<double>() <= step.at("median").get<double>());
  CHECK(step.at("median").get<double>() <= step.at("max").get<double>());
  CHECK(j.at("steps_per_s").get<double>() == Approx(1e6 / step.at("median").get<double>()));

  std::vector<int> sizes = {784, 100, 200, 10};
  CHECK(reported_gemms(j) == dense_stack_gemms(sizes, 8));
  // 2·m·n·k summed: 6·N·Σ in·out less the first layer's input gradient.
  double expected_flops = 6.0 * 8 * (784 * 100 + 100 * 200 + 200 * 10) - 2.0 * 8 * 784 * 100;
  CHECK(j.at("gemm_flops_per_step").get<double>() == Approx(expected_flops));
  CHECK(j.at("gflops").get<double>() == Approx(expected_flops / step.at("median").get<double>() / 1e3));

  const auto& memory = j.at("memory");
  std::size_t lower = memory.at("lower_bound_bytes"), arena = memory.at("arena_bytes"),
              naive = memory.at("naive_bytes");
  CHECK(lower > 0);
  CHECK(lower <= arena);
  CHECK(arena <= naive);

  const auto& floor = j.at("gemm_floor");
  CHECK(floor.at("backend") == "cblas");
  CHECK(floor.at("median_us").get<double>() > 0);
  CHECK(floor.at("step_over_floor").get<double>() ==
        Approx(step.at("median").get<double>() / floor.at("median_us").get<double>()));
  // The same GEMMs through kiln's own kernels (whatever backend the plan chose).
  const auto& kiln_floor = j.at("gemm_floor_kiln");
  CHECK(kiln_floor.at("median_us").get<double>() > 0);
  CHECK(kiln_floor.at("step_over_floor").get<double>() ==
        Approx(step.at("median").get<double>() / kiln_floor.at("median_us").get<double>()));
  // One floor per backend this build has; blas always.
  std::set<std::string> backends;
  for (const auto& b : j.at("gemm_floor_per_backend")) {
    backends.insert(b.at("backend").get<std::string>());
    CHECK(b.at("median_us").get<double>() > 0);
    CHECK(b.at("gemms_without_a_kernel").get<int>() >= 0);
  }
  CHECK(backends.count("blas") == 1);
  // The FMA peak measured on the spot (0 for a width the CPU lacks), and the
  // step's GEMM GFLOP/s as a share of the widest times the threads.
  const auto& peak = j.at("fma_peak");
  const double widest =
      std::max(peak.at("avx512_gflops_one_core").get<double>(), peak.at("avx2_gflops_one_core").get<double>());
  CHECK(widest >= 0);
  if (widest > 0)
    CHECK(peak.at("step_percent_of_peak").get<double>() ==
          Approx(100.0 * j.at("gflops").get<double>() / (widest * peak.at("threads").get<double>())));
  else
    CHECK(peak.at("step_percent_of_peak").get<double>() == 0);
  for (const auto& g : floor.at("gemms")) {
    // Which backend the plan's kernel got, and why.
    CHECK(backends.count(g.at("backend").get<std::string>()) == 1);
    CHECK_FALSE(g.at("why").get<std::string>().empty());
    // The forward products are affine (bias in C: beta 1); the rest are plain matmuls.
    bool affine = g.at("op") != "matmul";
    CHECK(g.at("beta").get<double>() == (affine ? 1.0 : 0.0));
  }
}

TEST_CASE("kiln bench --no-fuse times the plan of plain matmuls", "[cli][bench]") {
  TempDir dir;
  nlohmann::json j = bench_json({"mlp", "--batch", "4", "--steps", "2", "--warmup", "0", "--no-fuse"}, dir);
  CHECK(j.at("fused") == false);
  for (const auto& g : j.at("gemm_floor").at("gemms")) CHECK(g.at("op") == "matmul");
  CHECK(reported_gemms(j) == dense_stack_gemms({784, 100, 200, 10}, 4));
}

TEST_CASE("kiln bench takes --hidden --threads and a graph file", "[cli][bench]") {
  TempDir dir;
  nlohmann::json wide = bench_json({"mlp", "--hidden", "16,8", "--batch", "5", "--steps", "2", "--threads", "2"}, dir);
  CHECK(wide.at("threads") == 2);
  CHECK(reported_gemms(wide) == dense_stack_gemms({784, 16, 8, 10}, 5));

  std::string graph = std::string(KILN_SOURCE_DIR) + "/examples/graphs/logreg.json";
  nlohmann::json logreg = bench_json({graph, "--steps", "2"}, dir);
  CHECK(logreg.at("model") == graph);
  // Logistic regression: the forward product and the weight gradient only.
  CHECK(logreg.at("gemm_floor").at("gemms").size() == 2);
}

TEST_CASE("kiln bench --breakdown sums kernel times per op", "[cli][bench]") {
  TempDir dir;
  nlohmann::json j = bench_json({"mlp", "--batch", "4", "--steps", "2", "--breakdown"}, dir);
  std::set<std::string> ops;
  for (const auto& entry : j.at("breakdown")) {
    ops.insert(entry.at("op"));
    CHECK(entry.at("calls").get<int>() >= 1);
    CHECK(entry.at("us").get<double>() >= 0);
  }
  for (const char* op : {"affine", "affine_relu", "matmul", "softmax_cross_entropy_with_grad", "sgd_update"})
    CHECK(ops.count(op) == 1);
  // A get_output's buffer is written by its source's kernel: no call of its own.
  CHECK(ops.count("get_output") == 0);
}

TEST_CASE("kiln bench refuses bad arguments with one error line", "[cli][bench]") {
  TempDir dir;
  check_clean_failure(kiln_bench({"no-such-model"}, dir));
  check_clean_failure(kiln_bench({"mlp", "--steps", "0"}, dir));
  check_clean_failure(kiln_bench({"mlp", "--threads", "0"}, dir));
  check_clean_failure(kiln_bench({"mlp", "--warmup", "-1"}, dir));
  check_clean_failure(kiln_bench({"mlp", "--batch", "x"}, dir));
  check_clean_failure(kiln_bench({"mlp", "--hidden", "10,zero"}, dir));
  check_clean_failure(kiln_bench({}, dir));
  check_clean_failure(kiln_bench({"missing.json"}, dir));
  std::string graph = std::string(KILN_SOURCE_DIR) + "/examples/graphs/mlp.json";
  RunResult batch_on_file = kiln_bench({graph, "--batch", "8"}, dir);
  check_clean_failure(batch_on_file);
  CHECK_THAT(batch_on_file.err, Catch::Contains("--batch"));
}
