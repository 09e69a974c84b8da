#pragma once
// The tuning file's format, read and written whole (not part of the public
// API; runtime/gemm/choice.hpp describes the behaviour).
//
//   kiln-gemm-tuning 3
//   cpu <cpu_identity()>
//   <backend> <threads> <µs blas> <µs xsmm> <µs dnnl> <µs direct> <µs blas on 1 thread> | <threads=N blas=<OpenBLAS core> Desc::key()>
//   ...
//   end <number of entry lines>
//
// <threads> is the count the GEMM runs on (Choice::threads); threads=N in the
// key is the process setting it was chosen under. The closing count catches a
// truncated file; anything else unexpected makes the whole file untrusted.
// Formats 1 (no thread count per entry) and 2 (no direct backend) are
// refused as a whole with their own reason, so that their shapes are
// measured again with what they lack.
#include <array>
#include <map>
#include <optional>
#include <string>

#include "runtime/gemm/gemm.hpp"

namespace kiln::gemm::detail {

struct TuningEntry {
  Backend backend = Backend::blas;
  int threads = 1;
  std::array<double, kBackendCount> us = kUnmeasured;
  double blas_one_thread_us = -1.0;
};
using TuningTable = std::map<std::string, TuningEntry>;

// The entries of `path` when it is a valid tuning file of `cpu` naming only
// backends this build has; otherwise nullopt and `why` says what is wrong
// (empty when the file does not exist).
std::optional<TuningTable> read_tuning_file(const std::string& path, const std::string& cpu, std::string& why);
// Writes atomically (a temporary file in the same folder, then rename),
// creating the folder; returns false (and why) when it cannot.
bool write_tuning_file(const std::string& path, const std::string& cpu, const TuningTable& table, std::string& why);

}  // namespace kiln::gemm::detail
