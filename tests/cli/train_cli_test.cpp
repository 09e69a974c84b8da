// kiln train as a user runs it: the default run, the log's format, exact
// resumption, bad input refused with nothing written, and SIGTERM handled.
#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "process.hpp"
#include "runtime/checkpoint.hpp"

extern char** environ;

namespace {

using kiln::test::read_text;
using kiln::test::run_program;
using kiln::test::TempDir;

kiln::test::RunResult kiln_train(const std::vector<std::string>& args, const TempDir& dir) {
  std::vector<std::string> all{"train"};
  all.insert(all.end(), args.begin(), args.end());
  return run_program(KILN_CLI_PATH, all, dir.path());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) lines.push_back(line);
  return lines;
}

// Every tensor of two checkpoints, byte for byte.
void require_same_tensors(const std::string& a, const std::string& b) {
  const kiln::Checkpoint x = kiln::read_checkpoint(a), y = kiln::read_checkpoint(b);
  REQUIRE(x.tensors.size() == y.tensors.size());
  for (const auto& [name, tensor] : x.tensors) {
    INFO(name);
    REQUIRE(y.tensors.count(name) == 1);
    const kiln::Tensor& other = y.tensors.at(name);
    REQUIRE(tensor.shape() == other.shape());
    CHECK(std::memcmp(tensor.raw(), other.raw(), tensor.bytes()) == 0);
  }
}

}  // namespace

TEST_CASE("kiln train with no arguments trains logreg on digits", "[cli][train]") {
  TempDir dir;
  const auto r = kiln_train({"--log", (dir / "log.csv").string(), "--summary-json", (dir / "s.json").string()}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("model logreg") != std::string::npos);
  CHECK(r.out.find("scaling    none") != std::string::npos);
  CHECK(r.out.find("optimizer  sgd lr 0.01") != std::string::npos);
  const auto log = lines_of(read_text(dir / "log.csv"));
  REQUIRE(log.size() == 302);
  CHECK(log[0] == "epoch,loss,train_accuracy,val_accuracy,test_accuracy,seconds");
  CHECK(log[1].rfind("0,2.302585", 0) == 0);  // log 10: zero weights
  CHECK(log[1].find(",,") != std::string::npos);  // no validation split: an empty cell
  const auto summary = nlohmann::json::parse(read_text(dir / "s.json"));
  CHECK(summary["epochs"] == 301);
  CHECK(summary["test_accuracy"].get<double>() >= 0.94);
}

TEST_CASE("kiln train: 4 epochs equal 2 plus 2 resumed bit for bit", "[cli][train]") {
  TempDir dir;
  const std::vector<std::string> common{"logreg", "--batch", "32", "--optimizer", "momentum", "--lr", "0.001",
                                        "--threads", "1", "--init", "normal:0.01", "--seed", "3"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return kiln_train(args, dir);
  };
  REQUIRE(with({"--epochs", "4", "--save", (dir / "once.st").string(), "--log", (dir / "once.csv").string()}).exit_code == 0);
  REQUIRE(with({"--epochs", "2", "--save", (dir / "half.st").string()}).exit_code == 0);
  const auto resumed =
      with({"--epochs", "2", "--load", (dir / "half.st").string(), "--save", (dir / "twice.st").string(), "--log",
            (dir / "twice.csv").string()});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.out.find("from " + (dir / "half.st").string() + " at epoch 2") != std::string::npos);
  require_same_tensors((dir / "once.st").string(), (dir / "twice.st").string());
  // The resumed log's epochs 2 and 3 have the uninterrupted run's losses.
  const auto once = lines_of(read_text(dir / "once.csv")), twice = lines_of(read_text(dir / "twice.csv"));
  REQUIRE(twice.size() == 3);
  CHECK(twice[1].substr(0, twice[1].rfind(',')) == once[3].substr(0, once[3].rfind(',')));
}

// The epoch and the three accuracy cells of a log row, "" when empty.
struct LogRow {
  std::string epoch, train, val, test;
};

LogRow log_row(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream is(line);
  for (std::string cell; std::getline(is, cell, ',');) cells.push_back(cell);
  REQUIRE(cells.size() == 6);
  return {cells[0], cells[2], cells[3], cells[4]};
}

TEST_CASE("kiln train --eval-every evaluates epochs 0, N, 2N... and the last, the others logged empty",
          "[cli][train]") {
  TempDir dir;
  const auto r = kiln_train({"--epochs", "8", "--eval-every", "3", "--threads", "1", "--print-every", "1", "--log",
                             (dir / "log.csv").string(), "--plot", (dir / "p.svg").string(), "--summary-json",
                             (dir / "s.json").string()},
                            dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto log = lines_of(read_text(dir / "log.csv"));
  REQUIRE(log.size() == 9);
  CHECK(log[0] == "epoch,loss,train_accuracy,val_accuracy,test_accuracy,seconds");
  for (int epoch = 0; epoch < 8; ++epoch) {
    INFO("epoch " << epoch << ": " << log[epoch + 1]);
    const LogRow row = log_row(log[epoch + 1]);
    CHECK(row.epoch == std::to_string(epoch));
    CHECK(row.val.empty());  // logreg's digits have no validation split
    const bool evaluated = epoch == 0 || epoch == 3 || epoch == 6 || epoch == 7;
    CHECK(row.train.empty() == !evaluated);
    CHECK(row.test.empty() == !evaluated);
  }
  // Every epoch is still printed; one not evaluated shows '-' for its accuracies.
  CHECK(r.out.find("epoch    1  loss ") != std::string::npos);
  CHECK(r.out.find("train -  val -  test -") != std::string::npos);
  CHECK(r.out.find("final: loss ") != std::string::npos);
  CHECK(r.out.find("test accuracy -") == std::string::npos);  // the last epoch was evaluated

  const auto summary = nlohmann::json::parse(read_text(dir / "s.json"));
  CHECK(summary["epochs"] == 8);
  CHECK(summary["steps"] == 8);  // full batch: one step an epoch
  REQUIRE(summary["eval_seconds"].is_number());
  CHECK(summary["eval_seconds"].get<double>() > 0);
  CHECK(summary["eval_seconds"].get<double>() <= summary["seconds"].get<double>());
  CHECK(summary["test_accuracy"].get<double>() == Approx(std::stod(log_row(log[8]).test)).margin(5e-7));
  // Both accuracy lines are drawn, through the evaluated epochs only.
  const std::string svg = read_text(dir / "p.svg");
  CHECK(std::count(svg.begin(), svg.end(), '<') > 10);
  std::size_t polylines = 0;
  for (std::size_t at = 0; (at = svg.find("<polyline", at)) != std::string::npos; ++at) ++polylines;
  CHECK(polylines == 3);  // loss, train, test
}

// The epochs of a log that have accuracies.
std::vector<int> evaluated_epochs(const std::vector<std::string>& log) {
  std::vector<int> epochs;
  for (std::size_t i = 1; i < log.size(); ++i)
    if (const LogRow row = log_row(log[i]); !row.train.empty()) epochs.push_back(std::stoi(row.epoch));
  return epochs;
}

TEST_CASE("kiln train: --eval-every counts from epoch 0 across a resumed run, by default every 5th or 30 a run",
          "[cli][train]") {
  TempDir dir;
  REQUIRE(kiln_train({"--epochs", "3", "--threads", "1", "--save", (dir / "c.st").string()}, dir).exit_code == 0);
  REQUIRE(kiln_train({"--epochs", "4", "--eval-every", "2", "--threads", "1", "--load", (dir / "c.st").string(),
                      "--log", (dir / "resumed.csv").string()},
                     dir)
              .exit_code == 0);
  // Epochs 3..6: the even ones and the last, not 3 and 5 (every 2nd of this run).
  CHECK(evaluated_epochs(lines_of(read_text(dir / "resumed.csv"))) == std::vector<int>{4, 6});

  REQUIRE(kiln_train({"--epochs", "7", "--threads", "1", "--log", (dir / "short.csv").string()}, dir).exit_code == 0);
  CHECK(evaluated_epochs(lines_of(read_text(dir / "short.csv"))) == std::vector<int>{0, 5, 6});
  // 181 epochs: every 7th (181 / 30 rounded up), and the last.
  REQUIRE(kiln_train({"--epochs", "181", "--threads", "1", "--log", (dir / "long.csv").string()}, dir).exit_code == 0);
  std::vector<int> want;
  for (int epoch = 0; epoch < 181; epoch += 7) want.push_back(epoch);
  want.push_back(180);
  CHECK(evaluated_epochs(lines_of(read_text(dir / "long.csv"))) == want);
}

TEST_CASE("kiln train refuses bad input with exit 2 and writes nothing", "[cli][train]") {
  TempDir dir;
  const std::vector<std::string> outputs{"--log", (dir / "log.csv").string(), "--save", (dir / "c.st").string(),
                                         "--summary-json", (dir / "s.json").string(), "--plot",
                                         (dir / "p.svg").string()};
  auto refused = [&](std::vector<std::string> args, const std::string& message) {
    args.insert(args.end(), outputs.begin(), outputs.end());
    const auto r = kiln_train(args, dir);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("kiln: error: ", 0) == 0);
    CHECK(r.err.find(message) != std::string::npos);
    CHECK(dir.entries().empty());
  };
  refused({"mlp", "--data", "digits"}, "has 64 features per row, but model 'mlp' reads 784");
  refused({"nosuchmodel"}, "unknown model 'nosuchmodel'");
  refused({"--batch", "many"}, "--batch 'many'");
  refused({"--init", "gaussian"}, "unknown initialiser");
  refused({"--val-split", "5000"}, "--val-split 5000");
  refused({"--max-memory", "1K"}, "raise --max-memory");
  // Weights of 1e37 overflow float logits at the first step.
  refused({"--init", "constant:1e37", "--epochs", "3"}, "epoch 0, step 0: ");

  kiln::test::write_text(dir / "f.csv", "1,2\n3,4\n");
  kiln::test::write_text(dir / "l.csv", "0\n5\n");
  const auto r = kiln_train({"--data", "csv:" + (dir / "f.csv").string() + "," + (dir / "l.csv").string(), "--hidden",
                             "4", "spiral-net", "--epochs", "1"},
                            dir);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("row 1 has label 5") != std::string::npos);
}

TEST_CASE("kiln train --load refuses a checkpoint of another model listing the differences", "[cli][train]") {
  TempDir dir;
  REQUIRE(kiln_train({"--epochs", "1", "--save", (dir / "logreg.st").string()}, dir).exit_code == 0);
  const auto r = kiln_train({"spiral-net", "--epochs", "1", "--load", (dir / "logreg.st").string()}, dir);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("does not match the model") != std::string::npos);
  CHECK(r.err.find("fc1/W") != std::string::npos);
}

TEST_CASE("kiln train on SIGTERM saves a checkpoint that resumes exactly and exits 143", "[cli][train]") {
  TempDir dir;
  const std::string out = (dir / "stdout").string(), saved = (dir / "stopped.st").string();
  // Many small steps per epoch, and more epochs than it will ever reach.
  const std::vector<std::string> common{"logreg", "--batch", "8", "--threads", "1", "--init", "normal:0.01",
                                        "--optimizer", "adam", "--lr", "0.001", "--print-every", "1"};
  std::vector<std::string> args{KILN_CLI_PATH, "train"};
  args.insert(args.end(), common.begin(), common.end());
  for (const char* a : {"--epochs", "100000", "--save"}) args.push_back(a);
  args.push_back(saved);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&files, 2, (dir / "stderr").string().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, KILN_CLI_PATH, &files, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&files);
  // Once an epoch line is out, training is under way.
  while (read_text(out).find("epoch    1 ") == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(kill(pid, SIGTERM) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);
  const std::string err = read_text(dir / "stderr");
  CHECK(err.find("kiln: interrupted by SIGTERM at epoch ") != std::string::npos);

  const kiln::Checkpoint stopped = kiln::read_checkpoint(saved);
  const std::int64_t epoch = std::stoll(stopped.metadata.at("epoch"));
  std::vector<std::string> resume = common;
  for (std::string a : std::vector<std::string>{"--epochs", "2", "--load", saved, "--save", (dir / "resumed.st").string()}) resume.push_back(a);
  REQUIRE(kiln_train(resume, dir).exit_code == 0);
  std::vector<std::string> straight = common;
  for (std::string a : std::vector<std::string>{"--epochs", std::to_string(epoch + 2), "--save", (dir / "straight.st").string()})
    straight.push_back(a);
  REQUIRE(kiln_train(straight, dir).exit_code == 0);
  require_same_tensors((dir / "straight.st").string(), (dir / "resumed.st").string());
}
