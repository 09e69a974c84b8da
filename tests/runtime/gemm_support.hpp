#pragma once
// Shared by the GEMM tests: a private tuning cache and a policy, restored
// when the test ends, so that no test writes the user's real cache or leaves
// its choice to the next.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "runtime/gemm/choice.hpp"
#include "runtime/gemm/gemm.hpp"

namespace kiln::test {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) before_ = old;
    if (value) setenv(name, value->c_str(), 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (before_) setenv(name_, before_->c_str(), 1);
    else unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> before_;
};

// A fresh XDG_CACHE_HOME under the temp folder, the given policy, tuning on.
class PrivateGemmCache {
 public:
  explicit PrivateGemmCache(gemm::Policy policy = gemm::Policy::automatic)
      : dir_(make_dir()), env_("XDG_CACHE_HOME", dir_.string()), policy_before_(gemm::policy()),
        tuning_before_(gemm::tuning()) {
    gemm::set_policy(policy);
    gemm::set_tuning(true);
    gemm::reset_tuning_state();
  }
  ~PrivateGemmCache() {
    gemm::set_policy(policy_before_);
    gemm::set_tuning(tuning_before_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    gemm::reset_tuning_state();
  }
  std::filesystem::path file() const { return dir_ / "kiln" / "gemm-tuning.txt"; }

 private:
  static std::filesystem::path make_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kiln-gemm-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
  }
  std::filesystem::path dir_;
  ScopedEnv env_;
  gemm::Policy policy_before_;
  bool tuning_before_;
};

// As choice.cpp keys the tuning file's entries: the process's thread count,
// OpenBLAS's core (from the ISA line), the shape.
inline std::string tuning_key(const gemm::Desc& d, int threads) {
  std::string isa = gemm::backend_isa(gemm::Backend::blas);
  std::string core = "cblas";
  if (std::size_t at = isa.find("; core "); at != std::string::npos) {
    core = isa.substr(at + 7);
    core = core.substr(0, core.find(' '));
  }
  return "threads=" + std::to_string(threads) + " blas=" + core + " " + d.key();
}

// Named apart from tests/cli/process.hpp's read_text/write_text: two inline
// functions of one name in kiln::test would break the one-definition rule
// (the linker keeps either one, and that one does not create folders).
inline void write_file_creating_folders(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

inline std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// What the code under test writes to stderr while `f` runs.
template <class F>
std::string captured_stderr(F&& f) {
  std::fflush(stderr);
  char path[] = "/tmp/kiln-gemm-stderr-XXXXXX";
  int file = mkstemp(path);
  int saved = dup(2);
  dup2(file, 2);
  auto restore = [&] {
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(file);
  };
  try {
    f();
  } catch (...) {
    restore();
    std::remove(path);
    throw;
  }
  restore();
  std::string text = read_whole_file(path);
  std::remove(path);
  return text;
}

}  // namespace kiln::test
