#include "runtime/gemm/choice.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <vector>

#include "graph/error.hpp"
#include "runtime/gemm/backends.hpp"
#include "runtime/gemm/tuning_file.hpp"
#include "runtime/threads.hpp"

namespace kiln::gemm {
namespace {

using Clock = std::chrono::steady_clock;

void check_compiled(Policy p, std::string_view what) {
  std::optional<Backend> b = backend_from_name(policy_name(p));
  if (b && !backend_compiled(*b))
    throw Error(std::string(what) + ": '" + std::string(policy_name(p)) +
                "' is not in this build (configured without it; see the configure messages)");
}


bool tuning_from_environment() {
  const char* v = std::getenv("KILN_GEMM_TUNING");
  return !(v && (std::string_view(v) == "0" || std::string_view(v) == "off"));
}

// Process-wide choice state: what the tuning file said plus what this
// process measured, behind one mutex (plans may compile on several threads).
struct State {
  std::mutex mutex;
  bool policy_set = false;
  Policy policy = Policy::automatic;
  bool tuning_set = false;
  bool tuning = true;
  bool loaded = false;
  std::string path;
  std::string cpu;
  detail::TuningTable table;

  void load() {
    if (loaded) return;
    loaded = true;
    path = tuning_path();
    cpu = cpu_identity();
    std::string why;
    std::optional<detail::TuningTable> read = detail::read_tuning_file(path, cpu, why);
    if (read) table = std::move(*read);
    else if (!why.empty())
      std::fprintf(stderr, "kiln: warning: ignoring the GEMM tuning file %s: %s; it will be measured again\n",
                   path.c_str(), why.c_str());
  }

  // Keeps what another process added meanwhile (a valid file's entries this
  // process lacks), then writes atomically. A failure costs only a warning:
  // the next process measures again.
  void save() {
    std::string why;
    if (std::optional<detail::TuningTable> on_disk = detail::read_tuning_file(path, cpu, why))
      for (const auto& [key, entry] : *on_disk) table.try_emplace(key, entry);
    if (!detail::write_tuning_file(path, cpu, table, why))
      std::fprintf(stderr, "kiln: warning: cannot save GEMM tuning: %s\n", why.c_str());
  }
};

State& state() {
  static State s;
  return s;
}

// The OpenBLAS core is part of the key: OPENBLAS_CORETYPE changes it between
// runs on the same CPU, and with it which backend wins.
std::string table_key(const Desc& d) {
  return "threads=" + std::to_string(kiln::threads()) + " blas=" + detail::blas_core() + " " + d.key();
}

template <class T>
struct Scratch {
  std::vector<T> a, b, c, bias;
  explicit Scratch(const Desc& d) {
    const std::size_t a_rows = static_cast<std::size_t>(d.transpose_a ? d.k : d.m);
    const std::size_t b_rows = static_cast<std::size_t>(d.transpose_b ? d.n : d.k);
    a.assign(a_rows * static_cast<std::size_t>(d.lda), T(0.25));
    b.assign(b_rows * static_cast<std::size_t>(d.ldb), T(-0.5));
    c.assign(static_cast<std::size_t>(d.m) * static_cast<std::size_t>(d.ldc), T(0));
    bias.assign(static_cast<std::size_t>(d.n), T(0.125));
  }
};

template <class T>
double time_typed(const Prepared& p, double budget_ms) {
  Scratch<T> s(p.desc());
  // Each call is followed by a read of C, as the next kernel of a step reads
  // it: a backend that leaves C out of the cache (streaming stores) pays for
  // it here rather than in the kernel after it. Measured: libxsmm 1.17's
  // Aᵀ·B kernels ran faster than OpenBLAS alone and made the MLP step slower.
  T checksum = 0;
  auto call = [&] {
    p.run(s.a.data(), s.b.data(), s.bias.data(), s.c.data());
    T sum = 0;
    for (T v : s.c) sum += v;
    checksum += sum;
  };
  const Clock::time_point start = Clock::now();
  call();  // warm-up: caches, page faults, the backend's lazy set-up
  const double first_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  // Groups of about 50 µs, so that the clock's cost is noise.
  const int group = std::max(1, static_cast<int>(50.0 / std::max(first_us, 0.05)));
  const Clock::time_point deadline = start + std::chrono::microseconds(static_cast<long>(budget_ms * 1000));
  double best = std::numeric_limits<double>::infinity();
  for (int round = 0; round < 2 || Clock::now() < deadline; ++round) {
    const Clock::time_point t = Clock::now();
    for (int i = 0; i < group; ++i) call();
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - t).count() / group);
    if (round > 1000) break;
  }
  static volatile double sink;
  sink = static_cast<double>(checksum);
  return best;
}

// xsmm and direct run on the calling thread only; blas and dnnl on the
// process setting unless a measurement limits them.
int default_threads(Backend b, int process_threads) {
  return b == Backend::xsmm || b == Backend::direct ? 1 : process_threads;
}
int default_threads(Backend b) { return default_threads(b, kiln::threads()); }

Choice measure(const Desc& d) {
  Choice c;
  const int process_threads = kiln::threads();
  c.threads = process_threads;
  double best = std::numeric_limits<double>::infinity();
  for (Backend b : compiled_backends()) {
    std::unique_ptr<Prepared> p = try_prepare(d, b);
    if (!p) continue;
    const double us = time_prepared(*p);
    c.measured_us[static_cast<std::size_t>(b)] = us;
    if (auto_eligible(b) && us < best) {  // ties keep the earlier backend, so the choice is stable
      best = us;
      c.backend = b;
      c.threads = default_threads(b, process_threads);
    }
  }
  // blas on one thread must beat the best of the others (blas on the process
  // setting, xsmm, direct) by 10 %: a near tie keeps that best, so that a
  // short timing disturbed by other processes (which costs the threaded
  // variant most) flips fewer large GEMMs to one thread. The small products
  // it is for win by far more (MLP, batch 32: 2x to 100x).
  constexpr double kOneThreadMargin = 0.9;
  if (process_threads > 1) {
    c.blas_one_thread_us = time_prepared(*try_prepare(d, Backend::blas, 1));
    if (c.blas_one_thread_us < kOneThreadMargin * best) {
      c.backend = Backend::blas;
      c.threads = 1;
    }
  }
  c.reason = "measured";
  return c;
}

}  // namespace

bool auto_eligible(Backend b) { return b != Backend::dnnl && backend_compiled(b); }

Policy parse_policy(std::string_view text, std::string_view what) {
  if (text == "auto") return Policy::automatic;
  if (text == "blas") return Policy::blas;
  if (text == "xsmm") return Policy::xsmm;
  if (text == "dnnl") return Policy::dnnl;
  if (text == "direct") return Policy::direct;
  throw Error(std::string(what) + ": unknown GEMM policy '" + std::string(text) +
              "', expected one of auto, blas, xsmm, dnnl, direct");
}

std::string_view policy_name(Policy p) {
  switch (p) {
    case Policy::automatic: return "auto";
    case Policy::blas: return "blas";
    case Policy::xsmm: return "xsmm";
    case Policy::dnnl: return "dnnl";
    case Policy::direct: return "direct";
  }
  return "?";
}

std::optional<Policy> environment_policy() {
  const char* v = std::getenv("KILN_GEMM");
  if (!v || !*v) return std::nullopt;
  Policy p = parse_policy(v, "environment variable KILN_GEMM");
  check_compiled(p, "environment variable KILN_GEMM");
  return p;
}

void set_policy(Policy p) {
  check_compiled(p, "GEMM policy");
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.policy = p;
  s.policy_set = true;
}

Policy policy() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.policy_set) {
    s.policy = environment_policy().value_or(Policy::automatic);
    s.policy_set = true;
  }
  return s.policy;
}

void set_tuning(bool on) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.tuning = on;
  s.tuning_set = true;
}

bool tuning() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.tuning_set) {
    s.tuning = tuning_from_environment();
    s.tuning_set = true;
  }
  return s.tuning;
}

std::string tuning_path() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/') return std::string(xdg) + "/kiln/gemm-tuning.txt";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/kiln/gemm-tuning.txt";
}

void reset_tuning_state() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.loaded = false;
  s.table.clear();
}

double time_prepared(const Prepared& p, double budget_ms) {
  return p.desc().dtype == DType::f64 ? time_typed<double>(p, budget_ms) : time_typed<float>(p, budget_ms);
}

Choice choose(const Desc& d) {
  validate(d);
  const Policy p = policy();
  if (p != Policy::automatic) {
    const Backend forced = *backend_from_name(policy_name(p));
    if (try_prepare(d, forced))
      return {forced, default_threads(forced), "forced by policy " + std::string(policy_name(p)), kUnmeasured};
    return {Backend::blas, default_threads(Backend::blas),
            "policy " + std::string(policy_name(p)) + " has no kernel for this shape", kUnmeasured};
  }
  const bool may_measure = tuning();
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.load();
  const std::string key = table_key(d);
  // An entry naming a backend auto may not pick (hand-edited) is measured again.
  if (auto it = s.table.find(key); it != s.table.end() && auto_eligible(it->second.backend))
    return {it->second.backend, it->second.threads, "tuning file", it->second.us, it->second.blas_one_thread_us};
  if (!may_measure) {
    if (try_prepare(d, Backend::direct)) return {Backend::direct, 1, "fixed rule (tuning off)", kUnmeasured};
    if (backend_compiled(Backend::xsmm) && try_prepare(d, Backend::xsmm))
      return {Backend::xsmm, 1, "fixed rule (tuning off)", kUnmeasured};
    return {Backend::blas, default_threads(Backend::blas), "fixed rule (tuning off)", kUnmeasured};
  }
  Choice c = measure(d);
  s.table[key] = {c.backend, c.threads, c.measured_us, c.blas_one_thread_us};
  s.save();
  return c;
}

int Choice::max_threads() const { return threads < kiln::threads() ? threads : 0; }

std::unique_ptr<Prepared> prepare_chosen(const Desc& d, Choice* choice) {
  Choice c = choose(d);
  std::unique_ptr<Prepared> p = try_prepare(d, c.backend, c.max_threads());
  if (!p) {  // a file's choice this shape cannot have (e.g. a different libxsmm)
    c = {Backend::blas, default_threads(Backend::blas),
         "the tuning file's " + std::string(backend_name(c.backend)) + " has no kernel here", kUnmeasured};
    p = try_prepare(d, Backend::blas);
  }
  if (choice) *choice = std::move(c);
  return p;
}

}  // namespace kiln::gemm
