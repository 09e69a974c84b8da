// kiln grad with and without --no-fuse on the example graphs: fusion may
// reorder a sum, never change what is computed, so the loss and every
// gradient agree to float rounding; and the report shows the unfused plan
// really was a different one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "frontends/json.hpp"
#include "process.hpp"
#include "runtime/npy.hpp"
#include "runtime/tensor.hpp"

using kiln::test::RunResult;
using kiln::test::TempDir;

namespace {

RunResult kiln_cli(const std::vector<std::string>& args, const TempDir& dir) {
  return kiln::test::run_program(KILN_CLI_PATH, args, dir.path());
}

// The graph's inputs and labels written as .npy files, as --feed arguments.
std::vector<std::string> write_feeds(const kiln::Graph& g, const TempDir& dir) {
  std::vector<std::string> args;
  for (kiln::NodeId id : g.ids()) {
    const kiln::Node& n = g[id];
    if (n.op != kiln::OpKind::input && n.op != kiln::OpKind::labels) continue;
    kiln::Tensor t(n.shape, n.dtype);
    for (std::size_t i = 0; i < t.numel(); ++i)
      t.set(i, n.op == kiln::OpKind::labels ? static_cast<double>((i * 7 + 3) % static_cast<std::size_t>(n.attrs.classes))
                                            : 2.0 * std::sin(0.37 * static_cast<double>(i)));
    const std::string path = (dir / (n.name + ".npy")).string();
    kiln::write_npy(path, t);
    args.insert(args.end(), {"--feed", n.name + "=" + path});
  }
  return args;
}

// "plan fused, 12 nodes, 9 kernel calls" -> 12.
long plan_nodes(const std::string& out, const std::string& kind) {
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("plan " + kind + ", ([0-9]+) nodes, [0-9]+ kernel calls\n")));
  return std::stol(m[1]);
}

std::vector<std::string> file_names(const kiln::test::fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& e : kiln::test::fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The largest difference between two f32 tensors of one shape, relative to
// the larger of 1 and the largest magnitude in `a`.
double scaled_difference(const kiln::Tensor& a, const kiln::Tensor& b) {
  REQUIRE(a.dtype() == kiln::DType::f32);
  REQUIRE(b.dtype() == kiln::DType::f32);
  REQUIRE(a.shape() == b.shape());
  double worst = 0, magnitude = 1;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    worst = std::max(worst, std::fabs(a.get(i) - b.get(i)));
    magnitude = std::max(magnitude, std::fabs(a.get(i)));
  }
  return worst / magnitude;
}

}  // namespace

TEST_CASE("kiln grad --no-fuse gives the fused run's loss and gradients from an unfused plan", "[cli][grad]") {
  for (const char* name : {"logreg", "mlp", "moons", "spiral"}) {
    INFO(name);
    TempDir dir;
    const std::string graph = std::string(KILN_SOURCE_DIR) + "/examples/graphs/" + name + ".json";
    std::vector<std::string> args = {"grad", graph};
    const std::vector<std::string> feeds = write_feeds(kiln::load_graph_file(graph), dir);
    args.insert(args.end(), feeds.begin(), feeds.end());

    std::vector<std::string> fused_args = args, unfused_args = args;
    fused_args.insert(fused_args.end(), {"--out", (dir / "fused").string()});
    unfused_args.insert(unfused_args.end(), {"--no-fuse", "--out", (dir / "unfused").string()});
    RunResult fused = kiln_cli(fused_args, dir);
    INFO(fused.err);
    REQUIRE(fused.exit_code == 0);
    RunResult unfused = kiln_cli(unfused_args, dir);
    INFO(unfused.err);
    REQUIRE(unfused.exit_code == 0);

    // Fusion merges nodes (matmul + add -> affine, ...): the unfused plan has more.
    CHECK(plan_nodes(fused.out, "fused") < plan_nodes(unfused.out, "unfused"));

    const std::vector<std::string> grads = file_names(dir / "fused" / "grad");
    CHECK(grads.size() >= 2);
    CHECK(file_names(dir / "unfused" / "grad") == grads);
    // Both runs feed the same values and initialise the params from the same
    // seed; what may differ is the order of float sums (a bias added in the
    // GEMM rather than after it, another GEMM backend for the fused shape).
    // grad.numpy_reference holds each run to 1e-5 of float64 on these graphs,
    // so the two agree to 2e-5 whatever the machine picks; a fusion that
    // computed something else (a dropped bias, a misplaced ReLU) is off by
    // far more. Identical here (AVX2 EPYC), which no test may rely on.
    constexpr double kTolerance = 2e-5;
    const double loss_difference = scaled_difference(kiln::read_npy((dir / "fused" / "loss.npy").string()),
                                                     kiln::read_npy((dir / "unfused" / "loss.npy").string()));
    CHECK(loss_difference <= kTolerance);
    for (const std::string& file : grads) {
      INFO(file);
      const double difference = scaled_difference(kiln::read_npy((dir / "fused" / "grad" / file).string()),
                                                  kiln::read_npy((dir / "unfused" / "grad" / file).string()));
      CHECK(difference <= kTolerance);
    }
  }
}
