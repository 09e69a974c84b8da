#pragma once
// Helpers for tests that run programs (the kiln binary, graphviz's dot) and
// look at their exit status, output and the files they leave behind.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::test {

namespace fs = std::filesystem;

// A fresh directory removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kiln-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  // The names of the entries in the directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path path_;
};

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

inline void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

// 'arg' for /bin/sh, whatever the argument contains.
inline std::string shell_quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  // stderr split into lines (without the trailing newline).
  std::vector<std::string> err_lines() const {
    std::vector<std::string> lines;
    std::istringstream is(err);
    for (std::string line; std::getline(is, line);) lines.push_back(line);
    return lines;
  }
};

// Runs `program args...` through /bin/sh with stdout and stderr captured in
// files of `scratch`. `env_prefix` (e.g. "PATH=/nowhere") is put before the
// program as environment assignments.
inline RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                             const fs::path& scratch, const std::string& env_prefix = {}) {
  fs::path out = scratch / ".stdout", err = scratch / ".stderr";
  std::string cmd;
  if (!env_prefix.empty()) cmd.append("env ").append(env_prefix).append(" ");
  cmd += shell_quote(program);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string()) + " </dev/null";
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  fs::remove(out);
  fs::remove(err);
  return r;
}

// Where graphviz's dot lives, or "" when it is not installed.
inline std::string graphviz_dot() {
  for (const char* p : {"/usr/bin/dot", "/usr/local/bin/dot"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

}  // namespace kiln::test
