#pragma once
// The tuning file's format, read and written whole (not part of the public
// API; runtime/gemm/choice.hpp describes the behaviour).
//
//   kiln-gemm-tuning 1
//   cpu <cpu_identity()>
//   <backend> <µs blas> <µs xsmm> <µs dnnl> | <threads=N blas=<OpenBLAS core> Desc::key()>
//   ...
//   end <number of entry lines>
//
// The closing count catches a truncated file; anything else unexpected makes
// the whole file untrusted.
#include <array>
#include <map>
#include <optional>
#include <string>

#include "runtime/gemm/gemm.hpp"

namespace kiln::gemm::detail {

struct TuningEntry {
  Backend backend = Backend::blas;
  std::array<double, kBackendCount> us{-1.0, -1.0, -1.0};
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
