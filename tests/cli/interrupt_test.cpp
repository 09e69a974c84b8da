// kiln train as a long-running process meets the outside world: it is
// interrupted (SIGINT, SIGTERM) at a random step, and it runs out of disk
// while saving. Each real `kiln train` process must exit 130/143 with a
// one-line message and a valid checkpoint from which resuming gives
// bit-identical params (optimizer state included) to a run never
// interrupted; a save that fails must leave the previous checkpoint intact
// and no temporary file.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"
#include "runtime/checkpoint.hpp"

using kiln::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A child process running the kiln binary with stdout and stderr in files.
class KilnProcess {
 public:
  // `file_size_limit` > 0 sets RLIMIT_FSIZE in the child, with SIGXFSZ
  // ignored so a write past it fails with EFBIG instead of killing kiln.
  KilnProcess(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
              rlim_t file_size_limit = 0) {
    std::vector<std::string> argv_strings{KILN_CLI_PATH};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string out_path = out.string(), err_path = err.string();
    // Only async-signal-safe calls between fork and exec.
    pid_ = ::fork();
    if (pid_ == 0) {
      int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in_fd = ::open("/dev/null", O_RDONLY);
      if (out_fd < 0 || err_fd < 0 || in_fd < 0) ::_exit(120);
      ::dup2(in_fd, 0);
      ::dup2(out_fd, 1);
      ::dup2(err_fd, 2);
      if (file_size_limit > 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{file_size_limit, file_size_limit};
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(121);
      }
      ::execv(argv[0], argv.data());
      ::_exit(122);
    }
    if (pid_ < 0) throw std::runtime_error("fork failed");
  }

  pid_t pid() const { return pid_; }

  // The raw wait status.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  }

 private:
  pid_t pid_ = -1;
};

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

constexpr int kEpochs = 60;
constexpr int kStepsPerEpoch = 300;  // spiral: 300 rows, batch 1

// spiral-net with momentum (so optimizer state is checkpointed too),
// shuffled batches of one row: 300 steps per epoch, 18000 in all (about a
// second in a release build). One thread, so runs are bit-for-bit
// reproducible.
std::vector<std::string> train_args(int epochs, const std::string& save, const std::string& load = {}) {
  std::vector<std::string> args{"train",      "spiral-net", "--data",  "spiral", "--batch",   "1",
                                "--optimizer", "momentum",  "--lr",    "0.05",   "--momentum", "0.9",
                                "--seed",     "7",          "--threads", "1",    "--epochs",  std::to_string(epochs),
                                "--save",     save};
  if (!load.empty()) args.insert(args.end(), {"--load", load});
  return args;
}

void require_identical(const kiln::Checkpoint& a, const kiln::Checkpoint& b) {
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, tensor] : a.tensors) {
    INFO("tensor " << name);
    auto it = b.tensors.find(name);
    REQUIRE(it != b.tensors.end());
    REQUIRE(it->second.shape() == tensor.shape());
    REQUIRE(it->second.dtype() == tensor.dtype());
    CHECK(std::memcmp(it->second.raw(), tensor.raw(), tensor.bytes()) == 0);
  }
}

// Waits until kiln has printed the line of epoch `epoch` ("epoch    3  loss
// ..."): the signal handlers are installed by then (a signal during start-up
// ends the process by default, which is not what this test is about). False
// when the process ended first.
bool wait_for_epoch(const fs::path& out, pid_t pid, int epoch) {
  const std::regex line("epoch +" + std::to_string(epoch) + " +loss");
  for (int i = 0; i < 24000; ++i) {
    if (std::regex_search(kiln::test::read_text(out), line)) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // it ended before that epoch
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace

TEST_CASE("kiln train interrupted at a random step saves a checkpoint that resumes bit for bit", "[cli][train][interrupt]") {
  TempDir dir;
  const std::string reference = (dir / "reference.safetensors").string();
  {
    KilnProcess run(train_args(kEpochs, reference), dir / "ref.out", dir / "ref.err");
    const int status = run.wait();
    INFO(kiln::test::read_text(dir / "ref.err"));
    REQUIRE(describe(status) == "exit code 0");
  }
  const kiln::Checkpoint expected = kiln::read_checkpoint(reference);

  std::mt19937 random(std::random_device{}());
  int interrupted = 0;
  for (int attempt = 0; attempt < 12 && interrupted < 6; ++attempt) {
    const int signal = attempt % 2 == 0 ? SIGINT : SIGTERM;
    const std::string name = signal == SIGINT ? "SIGINT" : "SIGTERM";
    const std::string checkpoint = (dir / ("run" + std::to_string(attempt) + ".safetensors")).string();
    // Fresh names per attempt: the parent polls `out` before the child has
    // created it, and must not read the previous attempt's epoch lines.
    const fs::path out = dir / ("run" + std::to_string(attempt) + ".out"), err = dir / ("run" + std::to_string(attempt) + ".err");
    KilnProcess run(train_args(kEpochs, checkpoint), out, err);
    // Aimed by progress, not by a time span measured once: a run slowed or
    // sped up by the machine's load still gets its signal mid-training, at a
    // random epoch in the first two thirds and a random moment after its line.
    const int epoch = std::uniform_int_distribution<int>(0, kEpochs * 2 / 3)(random);
    const bool training = wait_for_epoch(out, run.pid(), epoch);
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(random)));
    if (training) ::kill(run.pid(), signal);
    const int status = run.wait();
    const std::string stderr_text = kiln::test::read_text(err);
    INFO("attempt " << attempt << " with " << name << ": " << describe(status) << "\nstderr: " << stderr_text
                     << "\nstdout: " << kiln::test::read_text(out) << "\ncheckpoint written: " << fs::exists(checkpoint));
    // It finished before the signal: try again. Finished means exit code 0,
    // or killed by the signal once training was over (kiln restores the
    // default handlers as it returns from training, after writing the final
    // checkpoint, which then holds every step).
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    if (WIFSIGNALED(status) && WTERMSIG(status) == signal && fs::exists(checkpoint) &&
        kiln::read_checkpoint(checkpoint).metadata.at("step") == expected.metadata.at("step"))
      continue;
    REQUIRE(training);
    REQUIRE(describe(status) == "exit code " + std::to_string(128 + signal));
    ++interrupted;

    // One line, naming the signal, where it stopped and the checkpoint.
    CHECK_THAT(stderr_text, Catch::Contains("kiln: interrupted by " + name + " at epoch "));
    CHECK_THAT(stderr_text, Catch::Contains("checkpoint saved to " + checkpoint));
    for (const auto& entry : fs::directory_iterator(dir.path()))
      CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);

    const kiln::Checkpoint saved = kiln::read_checkpoint(checkpoint);  // valid: it parses and validates
    const int stopped_epoch = std::stoi(saved.metadata.at("epoch"));
    const int stopped_step = std::stoi(saved.metadata.at("step"));
    INFO("stopped at epoch " << stopped_epoch << ", step " << stopped_step);
    CHECK(stopped_step > 0);
    CHECK(stopped_step <= kEpochs * kStepsPerEpoch);
    if (stopped_step == kEpochs * kStepsPerEpoch) {  // stopped after the last step: nothing to resume
      require_identical(saved, expected);
      continue;
    }

    // Resume for the epochs that remain (the partial one included).
    const std::string resumed = (dir / ("resumed" + std::to_string(attempt) + ".safetensors")).string();
    KilnProcess resume(train_args(kEpochs - stopped_epoch, resumed, checkpoint), dir / "resume.out", dir / "resume.err");
    const int resume_status = resume.wait();
    INFO("resume stderr: " << kiln::test::read_text(dir / "resume.err"));
    REQUIRE(describe(resume_status) == "exit code 0");
    const kiln::Checkpoint final_state = kiln::read_checkpoint(resumed);
    CHECK(final_state.metadata.at("step") == expected.metadata.at("step"));
    require_identical(final_state, expected);
  }
  // Up to six interruptions, alternating SIGINT and SIGTERM; a run that
  // finished before its signal does not count, and at least four must land.
  CHECK(interrupted >= 4);
}

TEST_CASE("kiln train that cannot save for lack of space keeps the previous checkpoint and no temporary file",
          "[cli][train][interrupt]") {
  TempDir dir;
  const std::string checkpoint = (dir / "model.safetensors").string();
  {
    KilnProcess run(train_args(1, checkpoint), dir / "first.out", dir / "first.err");
    const int status = run.wait();
    INFO(kiln::test::read_text(dir / "first.err"));
    REQUIRE(describe(status) == "exit code 0");
  }
  const std::string before = kiln::test::read_text(checkpoint);
  REQUIRE(before.size() > 2048);

  // A full disk, simulated by a 1 KiB file size limit for the second run:
  // the checkpoint it tries to write is larger. stdout goes to /dev/null
  // (devices are not limited); the error message is smaller than the limit.
  KilnProcess run(train_args(2, checkpoint), "/dev/null", dir / "second.err", 1024);
  const int status = run.wait();
  const std::string stderr_text = kiln::test::read_text(dir / "second.err");
  INFO(describe(status) << "\nstderr: " << stderr_text);
  CHECK(describe(status) == "exit code 2");
  CHECK_THAT(stderr_text, Catch::StartsWith("kiln: error: "));
  CHECK_THAT(stderr_text, Catch::Contains(checkpoint));
  CHECK_THAT(stderr_text, Catch::Contains("File too large"));

  CHECK(kiln::test::read_text(checkpoint) == before);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"first.err", "first.out", "model.safetensors", "second.err"});
  (void)kiln::read_checkpoint(checkpoint);  // still valid
}
