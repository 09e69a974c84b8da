#include "runtime/gemm/tuning_file.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln::gemm::detail {
namespace {

constexpr const char* kMagic = "kiln-gemm-tuning 3";
constexpr const char* kFormat1 = "kiln-gemm-tuning 1";
constexpr const char* kFormat2 = "kiln-gemm-tuning 2";

bool parse_entry(const std::string& line, std::string& key, TuningEntry& entry, std::string& why) {
  const std::size_t bar = line.find(" | ");
  if (bar == std::string::npos) {
    why = "no ' | ' between the result and the shape";
    return false;
  }
  key = line.substr(bar + 3);
  std::istringstream in(line.substr(0, bar));
  std::string name;
  if (!(in >> name)) {
    why = "no backend name";
    return false;
  }
  std::optional<Backend> b = backend_from_name(name);
  if (!b || !backend_compiled(*b)) {
    why = "names backend '" + name + "', which this build does not have";
    return false;
  }
  entry.backend = *b;
  std::string threads;
  const bool whole_number = in >> threads && std::from_chars(threads.data(), threads.data() + threads.size(),
                                                             entry.threads).ptr == threads.data() + threads.size();
  if (!whole_number || entry.threads < 1) {
    why = "expected a thread count of at least 1 after the backend";
    return false;
  }
  for (double& us : entry.us)
    if (!(in >> us)) {
      why = "expected " + std::to_string(kBackendCount + 1) + " timings after the thread count";
      return false;
    }
  if (!(in >> entry.blas_one_thread_us)) {
    why = "expected " + std::to_string(kBackendCount + 1) + " timings after the thread count";
    return false;
  }
  std::string extra;
  if (in >> extra || key.empty()) {
    why = key.empty() ? "an empty shape" : "unexpected text '" + extra + "'";
    return false;
  }
  return true;
}

}  // namespace

std::optional<TuningTable> read_tuning_file(const std::string& path, const std::string& cpu, std::string& why) {
  why.clear();
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  if (!std::getline(in, line) || line != kMagic) {
    why = line == kFormat1   ? "format 1, from a kiln without per-GEMM thread counts"
          : line == kFormat2 ? "format 2, from a kiln without the direct backend"
                             : "line 1 is not '" + std::string(kMagic) + "'";
    return std::nullopt;
  }
  if (!std::getline(in, line) || line.rfind("cpu ", 0) != 0) {
    why = "line 2 does not name the CPU";
    return std::nullopt;
  }
  if (line.substr(4) != cpu) {
    why = "written on another CPU ('" + line.substr(4) + "', this one is '" + cpu + "')";
    return std::nullopt;
  }
  TuningTable table;
  std::size_t line_no = 2, entries = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.rfind("end ", 0) == 0) {
      std::string rest;
      if (line.substr(4) != std::to_string(entries) || std::getline(in, rest)) {
        why = "line " + std::to_string(line_no) + ": the closing count does not match the " + std::to_string(entries) +
              " entries, or text follows it";
        return std::nullopt;
      }
      return table;
    }
    std::string key;
    TuningEntry entry;
    std::string bad;
    if (!parse_entry(line, key, entry, bad)) {
      why = "line " + std::to_string(line_no) + ": " + bad;
      return std::nullopt;
    }
    table[key] = entry;
    ++entries;
  }
  why = "truncated: no closing 'end' line after line " + std::to_string(line_no);
  return std::nullopt;
}

bool write_tuning_file(const std::string& path, const std::string& cpu, const TuningTable& table, std::string& why) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(path);
  fs::create_directories(target.parent_path(), ec);
  const fs::path temporary = target.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out) {
      why = "cannot write " + temporary.string();
      return false;
    }
    out << kMagic << "\ncpu " << cpu << "\n";
    char number[32];
    for (const auto& [key, entry] : table) {
      out << backend_name(entry.backend) << " " << entry.threads;
      for (double us : entry.us) {
        std::snprintf(number, sizeof number, " %.3f", us);
        out << number;
      }
      std::snprintf(number, sizeof number, " %.3f", entry.blas_one_thread_us);
      out << number;
      out << " | " << key << "\n";
    }
    out << "end " << table.size() << "\n";
    out.flush();
    if (!out) {
      why = "cannot write " + temporary.string();
      fs::remove(temporary, ec);
      return false;
    }
  }
  fs::rename(temporary, target, ec);
  if (ec) {
    why = "cannot rename " + temporary.string() + " to " + path + ": " + ec.message();
    fs::remove(temporary, ec);
    return false;
  }
  return true;
}

}  // namespace kiln::gemm::detail
