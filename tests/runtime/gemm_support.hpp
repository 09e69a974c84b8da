#pragma once
// Shared by the GEMM tests: a private tuning cache and a policy, restored
// when the test ends, so that no test writes the user's real cache or leaves
// its choice to the next.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

#include "runtime/gemm/choice.hpp"

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

}  // namespace kiln::test
