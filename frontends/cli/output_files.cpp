#include "output_files.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "graph/error.hpp"

extern char** environ;

namespace kiln::cli {

namespace fs = std::filesystem;

namespace {

// A hidden name beside `path`, unique to this process, so the final rename
// stays on one file system and two runs never share a temporary.
std::string temporary_beside(const std::string& path, std::string_view purpose) {
  fs::path p(path);
  std::string name = ".";
  name += p.filename().string();
  name += ".kiln-";
  name += purpose;
  name += "-";
  name += std::to_string(getpid());
  return (p.parent_path() / name).string();
}

// Removes a temporary when the scope ends unless it was renamed into place.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string path) : path_(std::move(path)) {}
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void move_to(const std::string& destination) {
    if (std::rename(path_.c_str(), destination.c_str()) != 0)
      throw Error("cannot write '" + destination + "': " + std::strerror(errno));
    path_.clear();
  }

 private:
  std::string path_;
};

void write_whole_file(const std::string& path, std::string_view content, const std::string& reported_as) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("cannot write '" + reported_as + "': " + std::strerror(errno));
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw Error("cannot write '" + reported_as + "': the write failed (disk full?)");
}

std::string first_line_of_file(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content) {
  if (fs::is_directory(path)) throw Error("cannot write '" + path + "': it is a directory");
  TemporaryFile tmp(temporary_beside(path, "tmp"));
  write_whole_file(tmp.path(), content, path);
  tmp.move_to(path);
}

std::string find_on_path(std::string_view program) {
  const char* env = std::getenv("PATH");
  std::istringstream dirs(env ? env : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

void render_with_graphviz(std::string_view dot_text, const std::string& path, const std::string& format) {
  std::string dot = find_on_path("dot");
  if (dot.empty())
    throw Error("cannot render '" + path + "': Graphviz's 'dot' program is not installed (install the graphviz " +
                "package, e.g. apt-get install graphviz), or write DOT text with -o FILE.dot");
  if (fs::is_directory(path)) throw Error("cannot write '" + path + "': it is a directory");

  TemporaryFile source(temporary_beside(path, "src"));
  TemporaryFile rendered(temporary_beside(path, "tmp"));
  TemporaryFile complaints(temporary_beside(path, "err"));
  write_whole_file(source.path(), dot_text, path);

  std::vector<std::string> args = {dot, "-T" + format, "-o", rendered.path(), source.path()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, complaints.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = 0;
  int spawn_error = posix_spawn(&pid, dot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) throw Error("cannot run '" + dot + "': " + std::strerror(spawn_error));

  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error("lost track of '" + dot + "': " + std::strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                        : "signal " + std::to_string(WTERMSIG(status));
    std::string said = first_line_of_file(complaints.path());
    throw Error("graphviz's dot failed (" + why + ") rendering '" + path + "'" + (said.empty() ? "" : ": " + said));
  }
  rendered.move_to(path);
}

}  // namespace kiln::cli
