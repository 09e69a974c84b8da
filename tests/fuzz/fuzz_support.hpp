#pragma once
// Shared by the libFuzzer harnesses: the readers take paths, so each input is
// written to a scratch file in /dev/shm (memory, no disk wear), unique per
// process so that parallel fuzzing jobs do not trample each other.
//
// The contract every harness checks: a reader either returns or throws
// kiln::Error. Anything else — another exception type, a crash, a sanitizer
// report, a hang, an allocation far beyond the input's size — is a bug, and
// libFuzzer reports it (an escaping exception aborts the process).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace kiln::fuzz {

inline std::string scratch_path(const std::string& name) {
  return "/dev/shm/kiln-fuzz-" + std::to_string(::getpid()) + "-" + name;
}

inline void write_file(const std::string& path, std::string_view bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
}

// Splits an input at the first occurrence of `separator` into two files'
// contents (the second is empty when there is none), so one fuzz input can
// describe a pair of files (features + labels, images + labels).
inline std::pair<std::string_view, std::string_view> split_pair(std::string_view input, std::string_view separator) {
  const std::size_t at = input.find(separator);
  if (at == std::string_view::npos) return {input, {}};
  return {input.substr(0, at), input.substr(at + separator.size())};
}

inline constexpr std::string_view kPairSeparator = "\n--KILN-FUZZ-NEXT-FILE--\n";

}  // namespace kiln::fuzz
