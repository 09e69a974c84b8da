#include "runtime/plan_memory.hpp"

#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "graph/error.hpp"
#include "passes/liveness.hpp"

namespace kiln {

std::size_t PlanMemory::total_bytes() const {
  return arena_bytes + param_bytes + optimizer_state_bytes + constant_bytes;
}

double PlanMemory::efficiency() const {
  return arena_bytes == 0 ? 1.0 : static_cast<double>(lower_bound) / static_cast<double>(arena_bytes);
}

std::string PlanMemory::summary() const {
  return format_bytes(total_bytes()) + " (arena " + format_bytes(arena_bytes) + " incl. fed inputs " +
         format_bytes(fed_bytes) + ", params " + format_bytes(param_bytes) + ", optimizer state " +
         format_bytes(optimizer_state_bytes) + ", constants " + format_bytes(constant_bytes) + ")";
}

PlanMemory plan_memory_needs(const Graph& compiled, const MemoryPlan& memory) {
  PlanMemory m;
  m.arena_bytes = memory.arena_bytes;
  m.lower_bound = memory.lower_bound;
  m.naive_bytes = memory.naive_bytes;
  m.scratch_bytes = memory.scratch_bytes;
  for (NodeId id : compiled.ids()) {
    const Node& n = compiled[id];
    const std::size_t bytes = static_cast<std::size_t>(n.shape.numel()) * dtype_size(n.dtype);
    if (n.op == OpKind::param) (n.role == Role::update ? m.optimizer_state_bytes : m.param_bytes) += bytes;
    else if (n.op == OpKind::constant) m.constant_bytes += bytes;
    else if (is_fed(compiled, id) && memory.index.count(id)) m.fed_bytes += memory.buffer(id).bytes;
  }
  return m;
}

std::size_t default_max_memory_bytes() {
  long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return std::size_t{8} << 30;
  return static_cast<std::size_t>(pages) / 2 * static_cast<std::size_t>(page_size);
}

std::string format_bytes(std::size_t bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", v, units[u]);
  return text;
}

std::size_t parse_byte_size(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error("memory size '" + std::string(text) + "': " + why +
                 " (expected bytes or a number with K, M, G or T, e.g. 512M, 2G)");
  };
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string number(text.substr(0, i));
  if (number.empty() || number == "." || number.find('.') != number.rfind('.')) throw bad("no number");
  std::string unit;
  for (char c : text.substr(i)) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && (unit.ends_with("IB"))) unit.resize(unit.size() - 2);
  else if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K") shift = 10;
  else if (unit == "M") shift = 20;
  else if (unit == "G") shift = 30;
  else if (unit == "T") shift = 40;
  else throw bad("unknown unit '" + std::string(text.substr(i)) + "'");
  long double value = std::strtold(number.c_str(), nullptr) * std::ldexp(1.0L, shift);
  if (!(value >= 1)) throw bad("not a positive size");
  if (value >= std::ldexp(1.0L, 64)) throw bad("more than 2^64 bytes");
  return static_cast<std::size_t>(value);
}

}  // namespace kiln
