// `mpirun -np 2 kiln train` as a user runs it: two ranks, each with half of
// every batch, end where one process ends (the params and the optimizer
// state within 1e-4 of the largest value of each tensor, the loss curve
// within 1e-5); only rank 0 prints and writes files; a batch that does not
// split is refused with one line; a checkpoint moves between 1 and 2 ranks;
// an interrupted run resumes to the end an uninterrupted one reaches.
//
// Registered only when kiln was built with MPI and mpirun was found
// (tests/mpi_cli.cmake defines KILN_MPIRUN).
#include <catch2/catch.hpp>

#ifdef KILN_MPIRUN

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "process.hpp"
#include "runtime/checkpoint.hpp"

namespace {

using kiln::test::read_text;
using kiln::test::TempDir;
namespace fs = std::filesystem;

// What OpenMPI needs in this container and in CI (as tests/mpi.cmake says
// why): to run as root, more ranks than cores, and shared memory without its
// single-copy path (CMA needs ptrace rights containers lack).
std::vector<std::string> mpirun_prefix(int ranks) {
  return {"--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader", "-np", std::to_string(ranks)};
}

// The environment mpirun passes on to the ranks, set in this test process
// only. In the sanitizer build the ranks keep every check but the leak
// check: OpenMPI keeps what MPI_Init allocates until the process ends.
void prepare_mpirun_environment() {
  ::setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);
  const char* asan = std::getenv("ASAN_OPTIONS");
  ::setenv("ASAN_OPTIONS", ((asan && *asan ? std::string(asan) + ":" : std::string()) + "detect_leaks=0").c_str(), 1);
}

// `kiln train ARGS` on one process (ranks 0: without mpirun) or on `ranks`
// ranks started by mpirun, in `dir`.
kiln::test::RunResult train(int ranks, std::vector<std::string> args, const TempDir& dir) {
  args.insert(args.begin(), "train");
  if (ranks == 0) return kiln::test::run_program(KILN_CLI_PATH, args, dir.path());
  prepare_mpirun_environment();
  std::vector<std::string> all = mpirun_prefix(ranks);
  all.push_back(KILN_CLI_PATH);
  all.insert(all.end(), args.begin(), args.end());
  return kiln::test::run_program(KILN_MPIRUN, all, dir.path());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) lines.push_back(line);
  return lines;
}

std::vector<double> values_of(const kiln::Tensor& t) {
  std::vector<double> v(t.numel());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (t.dtype() == kiln::DType::f64) v[i] = t.data<double>()[i];
    else if (t.dtype() == kiln::DType::i32) v[i] = t.data<std::int32_t>()[i];
    else v[i] = t.data<float>()[i];
  }
  return v;
}

// Every tensor of checkpoint `b` within `tolerance` times the largest
// magnitude in the same tensor of `a` (a relative error that near-zero
// elements of a tensor cannot blow up); the progress metadata equal.
void require_close(const std::string& a, const std::string& b, double tolerance = 1e-4) {
  const kiln::Checkpoint x = kiln::read_checkpoint(a), y = kiln::read_checkpoint(b);
  REQUIRE(x.tensors.size() == y.tensors.size());
  for (const auto& [name, tensor] : x.tensors) {
    INFO("tensor " << name);
    REQUIRE(y.tensors.count(name) == 1);
    const std::vector<double> u = values_of(tensor), v = values_of(y.tensors.at(name));
    REQUIRE(u.size() == v.size());
    double largest = 0, worst = 0;
    for (std::size_t i = 0; i < u.size(); ++i) {
      largest = std::max(largest, std::abs(u[i]));
      worst = std::max(worst, std::abs(u[i] - v[i]));
    }
    CHECK(worst <= tolerance * std::max(largest, 1e-30));
  }
  for (const char* key : {"epoch", "batch_in_epoch", "step", "batch", "optimizer"}) {
    INFO("metadata " << key);
    CHECK(x.metadata.at(key) == y.metadata.at(key));
  }
}

// The loss column of a --log file.
std::vector<double> losses(const fs::path& log) {
  std::vector<double> column;
  const std::vector<std::string> rows = lines_of(read_text(log));
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::size_t comma = rows[i].find(',');
    column.push_back(std::stod(rows[i].substr(comma + 1)));
  }
  return column;
}

// The lines kiln itself wrote to stderr (mpirun adds reports of its own).
std::vector<std::string> kiln_lines(const std::string& err) {
  std::vector<std::string> mine;
  for (const std::string& line : lines_of(err))
    if (line.rfind("kiln:", 0) == 0) mine.push_back(line);
  return mine;
}

// A 784-feature CSV dataset for the MLP: 128 rows of 10 classes, each
// feature a fixed function of row and column.
std::string mlp_data(const TempDir& dir) {
  std::ostringstream x, y;
  for (int r = 0; r < 128; ++r) {
    for (int c = 0; c < 784; ++c) x << (c ? "," : "") << ((r * 31 + c * 17) % 97) / 97.0;
    x << "\n";
    y << (r * 7) % 10 << "\n";
  }
  kiln::test::write_text(dir / "x.csv", x.str());
  kiln::test::write_text(dir / "y.csv", y.str());
  return "csv:" + (dir / "x.csv").string() + "," + (dir / "y.csv").string();
}

struct Run {
  const char* what;
  std::vector<std::string> args;
  int batch_per_rank;
  bool mlp_data = false;  // train on mlp_data()
};

}  // namespace

TEST_CASE("mpirun -np 2 kiln train ends with the checkpoint of one process", "[cli][train][mpi]") {
  TempDir dir;
  const std::string mlp = std::string(KILN_SOURCE_DIR) + "/examples/graphs/mlp.json";
  const Run run = GENERATE_COPY(
      // 100 of the recipe's 10,000 full-batch steps: later, at lr 1.0, the
      // run is chaotic and rounding alone moves the params (one process,
      // fused against --no-fuse, ends 50 % apart; docs/scaling.md).
      Run{"spiral-net, SGD, full batch", {"spiral-net", "--epochs", "100"}, 150},
      Run{"spiral-net, momentum, shuffled batches of 30",
          {"spiral-net", "--epochs", "4", "--batch", "30", "--optimizer", "momentum", "--lr", "0.1"}, 15},
      Run{"logreg, momentum, batches of 64 on digits",
          {"logreg", "--epochs", "3", "--batch", "64", "--optimizer", "momentum", "--lr", "0.01", "--eval-every", "1"},
          32},
      // Not from logreg's zero init: Adam's first steps turn gradients whose
      // exact value is 0 (integer pixels can cancel exactly) into ±lr or 0
      // depending on rounding alone.
      Run{"logreg, Adam from a random init, batches of 64 on digits",
          {"logreg", "--epochs", "3", "--batch", "64", "--optimizer", "adam", "--lr", "0.01", "--init", "normal:0.01"},
          32},
      Run{"the 784-100-200-10 MLP, Adam, batches of 32", {mlp, "--epochs", "2", "--optimizer", "adam", "--lr", "0.001",
                                                          "--eval-every", "1"}, 16, true});
  INFO(run.what);
  std::vector<std::string> common = run.args;
  if (run.mlp_data) common.insert(common.end(), {"--data", mlp_data(dir)});
  auto with_files = [&](const std::string& tag) {
    std::vector<std::string> a = common;
    a.insert(a.end(), {"--threads", "1", "--seed", "3", "--save", (dir / (tag + ".safetensors")).string(), "--log",
                       (dir / (tag + ".csv")).string(), "--summary-json", (dir / (tag + ".json")).string()});
    return a;
  };
  const auto one = train(0, with_files("one"), dir);
  INFO(one.err);
  REQUIRE(one.exit_code == 0);
  const auto two = train(2, with_files("two"), dir);
  INFO(two.err);
  REQUIRE(two.exit_code == 0);

  require_close((dir / "one.safetensors").string(), (dir / "two.safetensors").string());
  const std::vector<double> a = losses(dir / "one.csv"), b = losses(dir / "two.csv");
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(b[i] == Approx(a[i]).epsilon(1e-5));

  // Rank 0 alone prints: one header, one "done" line.
  const std::vector<std::string> out = lines_of(two.out);
  REQUIRE(!out.empty());
  CHECK(out[0].find(" on 2 MPI ranks") != std::string::npos);
  CHECK(lines_of(one.out)[0].find("MPI") == std::string::npos);
  CHECK(std::count_if(out.begin(), out.end(), [](const std::string& l) { return l.rfind("done:", 0) == 0; }) == 1);
  const auto summary = nlohmann::json::parse(read_text(dir / "two.json"));
  CHECK(summary["ranks"] == 2);
  CHECK(summary["batch_per_rank"] == run.batch_per_rank);
  CHECK(nlohmann::json::parse(read_text(dir / "one.json"))["ranks"] == 1);
}

TEST_CASE("mpirun -np 2 kiln train has rank 0 alone write the checkpoint and log and plot and summary", "[cli][train][mpi]") {
  // Each rank in a directory of its own (mpirun's MPMD form), the files
  // named relative to it: whatever rank 1 wrote would land in its own.
  TempDir zero, one;
  prepare_mpirun_environment();
  std::vector<std::string> args{KILN_MPIRUN, "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader"};
  for (const TempDir* d : {&zero, &one}) {
    if (d == &one) args.push_back(":");
    args.insert(args.end(), {"-np", "1", "--wdir", d->path().string(), KILN_CLI_PATH, "train", "spiral-net",
                             "--epochs", "20", "--threads", "1", "--save", "c.safetensors", "--log", "l.csv", "--plot",
                             "p.svg", "--summary-json", "s.json"});
  }
  const auto r = kiln::test::run_program(args[0], {args.begin() + 1, args.end()}, zero.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(zero.entries() == std::vector<std::string>{"c.safetensors", "l.csv", "p.svg", "s.json"});
  CHECK(one.entries().empty());
}

TEST_CASE("mpirun -np 2 kiln train refuses a batch that does not split over the ranks in one line",
          "[cli][train][mpi]") {
  TempDir dir;
  const auto r = train(2, {"spiral-net", "--batch", "15", "--epochs", "1", "--save", (dir / "c").string()}, dir);
  CHECK(r.exit_code == 2);
  const std::vector<std::string> mine = kiln_lines(r.err);
  INFO(r.err);
  REQUIRE(mine.size() == 1);
  CHECK(mine[0].find("batch of 15 rows") != std::string::npos);
  CHECK(mine[0].find("2 ranks") != std::string::npos);
  CHECK(r.out.empty());
  CHECK(dir.entries().empty());
}

TEST_CASE("mpirun -np 2 kiln train stops every rank at a non-finite loss with one line", "[cli][train][mpi]") {
  TempDir dir;
  const auto r = train(2, {"spiral-net", "--lr", "1e30", "--epochs", "20", "--threads", "1", "--save",
                           (dir / "c").string()}, dir);
  CHECK(r.exit_code == 2);
  const std::vector<std::string> mine = kiln_lines(r.err);
  INFO(r.err);
  REQUIRE(mine.size() == 1);  // every rank sees it in the same step; rank 0 says so
  CHECK(mine[0].find("the loss node 'loss'") != std::string::npos);
  CHECK(mine[0].find("rank") == std::string::npos);
}

TEST_CASE("a checkpoint written by 2 ranks resumes in 1 process and back to where 1 process goes", "[cli][train][mpi]") {
  TempDir dir;
  auto args = [&](const std::string& save, const std::string& load) {
    std::vector<std::string> a{"spiral-net", "--epochs", "3",   "--batch", "20", "--optimizer", "momentum",
                               "--lr",       "0.1",      "--threads", "1", "--seed", "5", "--save", (dir / save).string()};
    if (!load.empty()) a.insert(a.end(), {"--load", (dir / load).string()});
    return a;
  };
  std::vector<std::string> straight = args("straight", "");
  straight[2] = "6";
  REQUIRE(train(0, straight, dir).exit_code == 0);
  REQUIRE(train(2, args("two-then", ""), dir).exit_code == 0);
  REQUIRE(train(0, args("then-one", "two-then"), dir).exit_code == 0);
  REQUIRE(train(0, args("one-then", ""), dir).exit_code == 0);
  REQUIRE(train(2, args("then-two", "one-then"), dir).exit_code == 0);
  require_close((dir / "straight").string(), (dir / "then-one").string());
  require_close((dir / "straight").string(), (dir / "then-two").string());
}

namespace {

// mpirun running `kiln train` with stdout and stderr in files.
pid_t start_mpirun(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
  prepare_mpirun_environment();
  std::vector<std::string> strings{KILN_MPIRUN};
  std::vector<std::string> prefix = mpirun_prefix(2);
  strings.insert(strings.end(), prefix.begin(), prefix.end());
  strings.push_back(KILN_CLI_PATH);
  strings.push_back("train");
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string out_path = out.string(), err_path = err.string();
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls until exec
    const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in_fd = ::open("/dev/null", O_RDONLY);
    if (out_fd < 0 || err_fd < 0 || in_fd < 0) ::_exit(120);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(122);
  }
  if (pid < 0) throw std::runtime_error("fork failed");
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Whether `line` appears in the file at `path` within 30 s (polled every 5 ms).
bool wait_for_line(const fs::path& path, const std::regex& line) {
  for (int i = 0; i < 6000; ++i) {
    if (std::regex_search(read_text(path), line)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// The processes whose parent is `parent` (mpirun's ranks on one machine).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after its ')'
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    std::string state;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) found.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return found;
}

}  // namespace

// The signal goes to the ranks themselves, as `pkill -TERM -f "kiln train"`
// would send it: this run prints an epoch line every few hundred
// microseconds, and at that rate a SIGINT to mpirun (OpenMPI 4.1.4) ended
// the ranks without their handler running (nothing saved), every time on a
// quiet 2-core EPYC. The next test covers Ctrl-C to mpirun at a sane rate.
TEST_CASE("mpirun -np 2 kiln train interrupted by SIGTERM saves a checkpoint that resumes to the same end",
          "[cli][train][mpi][interrupt]") {
  TempDir dir;
  // 45,000 steps of 2 rows (1 a rank): about half a second on a quiet 2-core
  // EPYC, long enough for the signal to land after epoch 3 and before the end.
  constexpr int kEpochs = 300;
  auto args = [&](int epochs, const std::string& save, const std::string& load) {
    std::vector<std::string> a{"spiral-net", "--batch", "2", "--optimizer", "momentum", "--lr", "0.05", "--seed", "7",
                               "--threads", "1", "--print-every", "1", "--epochs", std::to_string(epochs),
                               "--save", (dir / save).string()};
    if (!load.empty()) a.insert(a.end(), {"--load", (dir / load).string()});
    return a;
  };
  REQUIRE(train(2, args(kEpochs, "reference", ""), dir).exit_code == 0);

  const pid_t mpirun = start_mpirun(args(kEpochs, "interrupted", ""), dir / "out", dir / "err");
  // Once training has started (epoch 3's line printed), Ctrl-C to mpirun.
  REQUIRE(wait_for_line(dir / "out", std::regex("epoch +3 +loss")));
  const std::vector<pid_t> ranks = children_of(mpirun);
  REQUIRE(ranks.size() == 2);
  for (pid_t rank : ranks) ::kill(rank, SIGTERM);
  const int status = wait_for(mpirun);
  const std::string err = read_text(dir / "err");
  INFO(err);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) != 0));
  const std::vector<std::string> mine = kiln_lines(err);
  REQUIRE(mine.size() == 1);
  const std::smatch at = [&] {
    std::smatch m;
    std::regex_search(mine[0], m, std::regex("interrupted by SIG(INT|TERM) at epoch (\\d+), .*--epochs (\\d+)\\)"));
    return m;
  }();
  REQUIRE(!at.empty());
  const int left = std::stoi(at[3]);
  REQUIRE(left >= 1);
  REQUIRE(left <= kEpochs);
  REQUIRE(train(2, args(left, "resumed", "interrupted"), dir).exit_code == 0);
  require_close((dir / "reference").string(), (dir / "resumed").string(), 0.0);
}

TEST_CASE("Ctrl-C to mpirun -np 2 kiln train stops every rank after the same step and saves",
          "[cli][train][mpi][interrupt]") {
  TempDir dir;
  // A line every 100 epochs (tens of milliseconds apart): mpirun passes its
  // SIGINT on to the ranks as SIGTERM about a second later.
  const pid_t mpirun = start_mpirun({"spiral-net", "--batch", "2", "--epochs", "1000000", "--threads", "1",
                                     "--print-every", "100", "--save", (dir / "ckpt").string()},
                                    dir / "out", dir / "err");
  REQUIRE(wait_for_line(dir / "out", std::regex("epoch +100 +loss")));
  ::kill(mpirun, SIGINT);
  const int status = wait_for(mpirun);
  const std::string err = read_text(dir / "err");
  INFO(err);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) != 0));
  const std::vector<std::string> mine = kiln_lines(err);
  REQUIRE(mine.size() == 1);
  CHECK(mine[0].find("kiln: interrupted by SIGTERM at epoch ") == 0);
  CHECK(mine[0].find("checkpoint saved to") != std::string::npos);
  CHECK(fs::exists(dir / "ckpt"));
}

TEST_CASE("a rank killed during mpirun -np 2 kiln train ends the other", "[cli][train][mpi]") {
  TempDir dir;
  const pid_t mpirun = start_mpirun({"spiral-net", "--batch", "2", "--epochs", "100000", "--threads", "1",
                                     "--print-every", "1"},
                                    dir / "out", dir / "err");
  REQUIRE(wait_for_line(dir / "out", std::regex("epoch +1 +loss")));
  // The ranks are mpirun's children; the last one started is killed.
  const std::string children =
      read_text("/proc/" + std::to_string(mpirun) + "/task/" + std::to_string(mpirun) + "/children");
  std::istringstream ids(children);
  pid_t rank = 0;
  for (pid_t id; ids >> id;) rank = id;
  REQUIRE(rank > 0);
  ::kill(rank, SIGKILL);
  const int status = wait_for(mpirun);  // returns only once every rank has ended
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) != 0));
  CHECK(read_text(dir / "err").find("exited on signal 9") != std::string::npos);
}

#endif  // KILN_MPIRUN
