#pragma once
// What kiln bench's timings share: timing a call repeatedly, deterministic
// inputs for a plan, and the units the figures are printed in.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "runtime/plan.hpp"

namespace kiln::cli {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Spread {
  double min = 0, median = 0, max = 0;  // seconds
};

inline Spread spread_of(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  std::size_t n = samples.size();
  double median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  return {samples.front(), median, samples.back()};
}

// Times `run` `reps` times after `warmup` untimed calls.
template <class F>
inline Spread time_repeatedly(int warmup, int reps, F&& run) {
  for (int i = 0; i < warmup; ++i) run();
  std::vector<double> samples(static_cast<std::size_t>(reps));
  for (double& s : samples) {
    auto start = Clock::now();
    run();
    s = seconds_since(start);
  }
  return spread_of(std::move(samples));
}

// Deterministic values that every op accepts (positive, so `log` and `div`
// stay finite; small, so a few hundred SGD steps stay far from overflow);
// class ids in range for labels.
inline void fill(void* data, const Node& n) {
  std::size_t count = static_cast<std::size_t>(n.shape.numel());
  if (n.dtype == DType::i32) {
    auto* p = static_cast<std::int32_t*>(data);
    std::int64_t classes = n.attrs.classes > 0 ? n.attrs.classes : 1;
    for (std::size_t i = 0; i < count; ++i) p[i] = static_cast<std::int32_t>((i * 7 + 3) % classes);
  } else if (n.dtype == DType::f64) {
    auto* p = static_cast<double*>(data);
    for (std::size_t i = 0; i < count; ++i) p[i] = 0.05 + 0.9 * static_cast<double>((i * 37) % 101) / 101.0;
  } else {
    auto* p = static_cast<float*>(data);
    for (std::size_t i = 0; i < count; ++i) p[i] = 0.05f + 0.9f * static_cast<float>((i * 37) % 101) / 101.0f;
  }
}

inline void feed_every_input(Plan& plan) {
  const Graph& g = plan.graph();
  for (NodeId id : plan.order()) {
    const Node& n = g[id];
    if (n.op == OpKind::labels) fill(plan.labels_buffer(n.name), n);
    else if (n.op == OpKind::input && n.dtype == DType::f64) fill(plan.input_buffer<double>(n.name), n);
    else if (n.op == OpKind::input) fill(plan.input_buffer<float>(n.name), n);
  }
}

inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown";
}

inline std::string with_unit(double seconds) {
  char text[32];
  if (seconds < 1e-3) std::snprintf(text, sizeof text, "%.1f us", seconds * 1e6);
  else if (seconds < 1) std::snprintf(text, sizeof text, "%.3f ms", seconds * 1e3);
  else std::snprintf(text, sizeof text, "%.3f s", seconds);
  return text;
}

inline std::string bytes_text(std::size_t bytes) {
  char text[32];
  if (bytes < 1024) std::snprintf(text, sizeof text, "%zu B", bytes);
  else if (bytes < 1024 * 1024) std::snprintf(text, sizeof text, "%.1f KiB", static_cast<double>(bytes) / 1024);
  else std::snprintf(text, sizeof text, "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

}  // namespace kiln::cli
