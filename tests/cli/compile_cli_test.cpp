// kiln compile and kiln dot --stage planned as a user meets them: the built
// binary run as a process, judged by exit code, output and files.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clean_failure.hpp"
#include "process.hpp"

using kiln::test::read_text;
using kiln::test::RunResult;
using kiln::test::TempDir;

namespace {

RunResult kiln_cli(const std::vector<std::string>& args, const TempDir& dir) {
  return kiln::test::run_program(KILN_CLI_PATH, args, dir.path());
}

std::string example(const std::string& name) { return std::string(KILN_SOURCE_DIR) + "/examples/graphs/" + name; }

nlohmann::json compile_json(const std::vector<std::string>& extra, const TempDir& dir) {
  std::vector<std::string> args = {"compile"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("--json");
  RunResult r = kiln_cli(args, dir);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  return nlohmann::json::parse(r.out);
}

const nlohmann::json* find_pass(const nlohmann::json& report, const std::string& name) {
  for (const auto& p : report["passes"])
    if (p["pass"] == name) return &p;
  return nullptr;
}

std::size_t count(const std::string& text, const std::string& word) {
  std::size_t n = 0;
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

// 784-100-200-10, f32 (frontends/models.hpp).
constexpr std::size_t kMlpParamBytes = (784 * 100 + 100 + 100 * 200 + 200 + 200 * 10 + 10) * 4;

}  // namespace

TEST_CASE("kiln compile --stats prints every pass with its rules then the memory summary", "[cli][compile]") {
  TempDir dir;
  RunResult r = kiln_cli({"compile", "mlp", "--stats"}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::StartsWith("mlp: training step with sgd, fused\n"));
  for (const char* word : {"pass", "nodes before", "fuse_forward", "autodiff", "fuse_backward", "simplify",
                           "optimizer_update", "schedule", "memory_plan", "affine", "memory\n", "arena",
                           "lower bound", "naive sum", "kernel scratch", "efficiency", "params", "optimizer state", "total", "limit"})
    CHECK_THAT(r.out, Catch::Contains(word));
  CHECK_THAT(r.out, Catch::Contains("(" + std::to_string(kMlpParamBytes) + " B)"));
  // The stats table comes before the memory summary.
  CHECK(r.out.find("fuse_forward") < r.out.find("memory\n"));

  RunResult plain = kiln_cli({"compile", "mlp"}, dir);
  CHECK(plain.exit_code == 0);
  CHECK(plain.out.find("fuse_forward") == std::string::npos);
  CHECK_THAT(plain.out, Catch::Contains("efficiency"));
}

TEST_CASE("kiln compile --stats counts the loss fused with its gradient, and --no-fuse does not",
          "[cli][compile][multi_output]") {
  TempDir dir;
  RunResult r = kiln_cli({"compile", "logreg", "--stats"}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto row = r.out.find("\nfuse_backward ");
  REQUIRE(row != std::string::npos);
  CHECK_THAT(r.out.substr(row, r.out.find('\n', row + 1) - row), Catch::Contains("softmax_cross_entropy_with_grad=1"));

  nlohmann::json fused = compile_json({"logreg"}, dir);
  const nlohmann::json* backward = find_pass(fused, "fuse_backward");
  REQUIRE(backward);
  CHECK((*backward)["fired"]["softmax_cross_entropy_with_grad"] == 1);
  nlohmann::json unfused = compile_json({"logreg", "--no-fuse"}, dir);
  CHECK(find_pass(unfused, "fuse_backward") == nullptr);
}

TEST_CASE("kiln compile --json gives passes and memory as one object", "[cli][compile]") {
  TempDir dir;
  nlohmann::json report = compile_json({"mlp", "--batch", "64"}, dir);
  const auto& m = report["memory"];
  CHECK(m["param_bytes"] == kMlpParamBytes);
  CHECK(m["optimizer_state_bytes"] == 0);
  CHECK(m["lower_bound_bytes"].get<std::size_t>() <= m["arena_bytes"].get<std::size_t>());
  CHECK(m["arena_bytes"].get<std::size_t>() <= m["naive_bytes"].get<std::size_t>());
  CHECK(m["efficiency"].get<double>() ==
        Approx(m["lower_bound_bytes"].get<double>() / m["arena_bytes"].get<double>()));
  CHECK(m["total_bytes"] == m["arena_bytes"].get<std::size_t>() + m["param_bytes"].get<std::size_t>() +
                                m["optimizer_state_bytes"].get<std::size_t>() +
                                m["constant_bytes"].get<std::size_t>());
  // The fused loss works in its gradient's rows: no scratch. Unfused, the
  // f32 loss kernel's scratch holds its 64 rows of 10 logits and two floats a row.
  CHECK(m["scratch_bytes"] == 0);
  const nlohmann::json unfused_memory = compile_json({"mlp", "--batch", "64", "--no-fuse"}, dir)["memory"];
  CHECK(unfused_memory["scratch_bytes"] == (64 * 10 + 2 * 64) * 4);
  CHECK(unfused_memory["scratch_bytes"].get<std::size_t>() <= unfused_memory["naive_bytes"].get<std::size_t>());
  // x [64, 784] f32 is fed, so the arena holds at least that.
  CHECK(m["fed_bytes"].get<std::size_t>() >= 64 * 784 * 4);
  CHECK(report["optimizer"] == "sgd");
  CHECK(report["fuse"] == true);
  const nlohmann::json* fuse = find_pass(report, "fuse_forward");
  REQUIRE(fuse);
  CHECK((*fuse)["fired"].size() > 0);
  CHECK((*fuse)["nodes_after"].get<int>() < (*fuse)["nodes_before"].get<int>());

  nlohmann::json unfused = compile_json({"mlp", "--batch", "64", "--no-fuse", "--optimizer", "momentum"}, dir);
  CHECK(find_pass(unfused, "fuse_forward") == nullptr);
  CHECK(find_pass(unfused, "fuse_backward") == nullptr);
  CHECK(unfused["memory"]["optimizer_state_bytes"] == kMlpParamBytes);
  CHECK(unfused["fuse"] == false);
  CHECK(unfused["kernel_calls"].get<int>() > report["kernel_calls"].get<int>());

  nlohmann::json file = compile_json({example("mlp.json"), "--optimizer", "none"}, dir);
  CHECK(file["optimizer"] == "none");
  CHECK(find_pass(file, "optimizer_update") == nullptr);
}

TEST_CASE("kiln compile --max-memory refuses a plan that needs more and says how much", "[cli][compile]") {
  TempDir dir;
  RunResult small = kiln_cli({"compile", "mlp", "--max-memory", "512K"}, dir);  // it needs about 810 KiB
  check_clean_failure(small);
  CHECK_THAT(small.err, Catch::Contains("the plan needs "));
  CHECK_THAT(small.err, Catch::Contains("arena "));
  CHECK_THAT(small.err, Catch::Contains("but --max-memory allows 512.0 KiB"));

  CHECK(kiln_cli({"compile", "mlp", "--max-memory", "1G"}, dir).exit_code == 0);
  nlohmann::json report = compile_json({"mlp", "--max-memory", "536870912"}, dir);
  CHECK(report["memory"]["max_memory_bytes"] == 536870912);

  // 10^8 rows of 784 floats: refused by the default limit, not attempted.
  RunResult huge = kiln_cli({"compile", "mlp", "--batch", "100000000"}, dir);
  check_clean_failure(huge);
  CHECK_THAT(huge.err, Catch::Contains("GiB"));
  CHECK_THAT(huge.err, Catch::Contains("half of physical memory"));

  RunResult bad = kiln_cli({"compile", "mlp", "--max-memory", "lots"}, dir);
  check_clean_failure(bad);
  CHECK_THAT(bad.err, Catch::Contains("memory size 'lots'"));
}

TEST_CASE("kiln compile names what it cannot compile in one line", "[cli][compile]") {
  TempDir dir;
  RunResult unknown = kiln_cli({"compile", "resnet"}, dir);
  check_clean_failure(unknown);
  CHECK_THAT(unknown.err, Catch::Contains("'resnet'"));
  CHECK_THAT(unknown.err, Catch::Contains("mlp"));

  RunResult batch_on_file = kiln_cli({"compile", example("mlp.json"), "--batch", "8"}, dir);
  check_clean_failure(batch_on_file);
  CHECK_THAT(batch_on_file.err, Catch::Contains("--batch 8"));

  RunResult dump_alone = kiln_cli({"compile", "mlp", "--dump", (dir / "x.dot").string()}, dir);
  check_clean_failure(dump_alone);
  CHECK_THAT(dump_alone.err, Catch::Contains("--dump-after"));

  RunResult bad_optimizer = kiln_cli({"compile", "mlp", "--optimizer", "lion"}, dir);
  check_clean_failure(bad_optimizer);
  CHECK_THAT(bad_optimizer.err, Catch::Contains("lion"));
}

TEST_CASE("kiln compile --dump-after writes the graph after that pass as DOT or JSON", "[cli][compile]") {
  TempDir dir;
  std::string json_path = (dir / "after-autodiff.json").string();
  RunResult r = kiln_cli({"compile", "mlp", "--dump-after", "autodiff", "--dump", json_path}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("wrote " + json_path));
  // The dump is a graph kiln reads back: the backward graph has gradients.
  nlohmann::json dumped = nlohmann::json::parse(read_text(json_path));
  CHECK(dumped["format"] == "kiln-graph");
  CHECK(read_text(json_path).find("grad") != std::string::npos);
  RunResult again = kiln_cli({"compile", json_path, "--optimizer", "none"}, dir);
  CHECK(again.exit_code == 0);

  std::string dot_path = (dir / "after-fuse.dot").string();
  CHECK(kiln_cli({"compile", "mlp", "--dump-after", "fuse_forward", "--dump", dot_path}, dir).exit_code == 0);
  CHECK_THAT(read_text(dot_path), Catch::StartsWith("digraph"));
}

TEST_CASE("kiln compile --dump-after takes every pass of the pipeline", "[cli][compile]") {
  TempDir dir;
  for (const char* pass : {"verify", "fuse_forward", "autodiff", "fuse_backward", "simplify", "optimizer_update",
                           "allreduce", "fuse_update", "schedule", "memory_plan"}) {
    INFO(pass);
    std::string json_path = (dir / (std::string(pass) + ".json")).string();
    RunResult r = kiln_cli({"compile", "mlp", "--dump-after", pass, "--dump", json_path}, dir);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("wrote " + json_path + " (after " + pass + ")"));
    nlohmann::json dumped = nlohmann::json::parse(read_text(json_path));
    CHECK(dumped["format"] == "kiln-graph");
    // From the optimizer update on, the graph holds the update of every param.
    const bool has_updates = read_text(json_path).find("update/fc1/W") != std::string::npos;
    CHECK(has_updates == (std::string(pass) == "optimizer_update" || std::string(pass) == "allreduce" ||
                          std::string(pass) == "fuse_update" || std::string(pass) == "schedule" ||
                          std::string(pass) == "memory_plan"));
  }
  // The dump after the memory plan reads back as a valid graph. (Not compiled
  // again: autodiff has no rule for the fused loss-with-gradient node.)
  RunResult again = kiln_cli({"dot", (dir / "memory_plan.json").string(), "--stage", "input"}, dir);
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("update/fc1/W"));

  std::string dot_path = (dir / "planned.dot").string();
  REQUIRE(kiln_cli({"compile", "mlp", "--dump-after", "memory_plan", "--dump", dot_path}, dir).exit_code == 0);
  const std::string dot = read_text(dot_path);
  CHECK_THAT(dot, Catch::Contains("after memory_plan"));
  CHECK_THAT(dot, Catch::Contains("offset "));
  CHECK_THAT(dot, Catch::Contains("writes fc1/W in place"));
}

TEST_CASE("kiln dot --stage planned draws the compiled plan with offsets and honours --no-fuse", "[cli][dot]") {
  TempDir dir;
  RunResult r = kiln_cli({"dot", example("mlp.json"), "--stage", "planned"}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("digraph"));
  CHECK_THAT(r.out, Catch::Contains("mlp: planned stage"));
  CHECK_THAT(r.out, Catch::Contains("arena"));
  CHECK_THAT(r.out, Catch::Contains("offset "));
  CHECK_THAT(r.out, Catch::Contains("param store"));
  CHECK_THAT(r.out, Catch::Contains("in place"));
  CHECK_THAT(r.out, Catch::Contains("update/"));

  RunResult unfused = kiln_cli({"dot", example("mlp.json"), "--stage", "planned", "--no-fuse"}, dir);
  REQUIRE(unfused.exit_code == 0);
  // Unfused, the dense layers stay matmul + add (+ relu) instead of affine.
  CHECK(count(unfused.out, "matmul [") > count(r.out, "matmul ["));
  CHECK(count(r.out, "affine") > count(unfused.out, "affine"));
  // The title's node count comes from the plan that `kiln compile` describes.
  nlohmann::json report = compile_json({example("mlp.json")}, dir);
  CHECK_THAT(r.out, Catch::Contains("planned stage, " + std::to_string(report["nodes_compiled"].get<int>()) +
                                    " nodes"));
}
