#pragma once
// Which backend runs each GEMM, and on how many threads: chosen when a plan
// is compiled, never per call. Under the automatic policy the first plan that meets a shape on a
// machine times every backend on it (a few milliseconds, bounded) and the
// result is kept in a tuning file keyed by the CPU's identity and the shape:
//   $XDG_CACHE_HOME/kiln/gemm-tuning.txt, else ~/.cache/kiln/gemm-tuning.txt
// written atomically. A file that is corrupt, truncated, from another CPU or
// names a backend this build lacks is ignored with one warning on stderr and
// rewritten; given the file, the choice is deterministic.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/gemm/gemm.hpp"

namespace kiln::gemm {

// automatic: measured (or read from the tuning file); the others force one
// backend, falling back to blas for the shapes it has no kernel for.
enum class Policy : std::uint8_t { automatic, blas, xsmm, dnnl, direct };

// Whether the automatic policy may pick `b`. oneDNN 2.6 may not: its
// execute() allocates on every call (its argument map, 5-7 mallocs), which
// would break a plan's promise of no heap allocation in step(); it is
// measured and reported, and runs when forced (--gemm=dnnl, KILN_GEMM=dnnl).
bool auto_eligible(Backend b);

// "auto" | "blas" | "xsmm" | "dnnl" | "direct" (the values of --gemm and KILN_GEMM);
// throws kiln::Error naming `what` (e.g. "--gemm") and the expected values.
Policy parse_policy(std::string_view text, std::string_view what = "GEMM policy");
std::string_view policy_name(Policy p);

// Process-wide, like kiln::set_threads. Starts as KILN_GEMM says (auto when
// unset; an invalid value throws kiln::Error at the first use). Throws
// kiln::Error for a backend this build does not have.
void set_policy(Policy p);
Policy policy();
// What KILN_GEMM says now (nullopt when unset or empty); throws kiln::Error
// naming the variable for an unknown value or a backend not in this build.
std::optional<Policy> environment_policy();

// Whether automatic choice may measure shapes the tuning file lacks. Off
// (KILN_GEMM_TUNING=0 or off, or set_tuning(false)), those shapes get the
// fixed rule: direct when it has a kernel (k ≤ 4), else libxsmm when it has
// one, else blas.
void set_tuning(bool on);
bool tuning();

struct Choice {
  Backend backend = Backend::blas;
  // The threads each call runs on. xsmm and direct: 1. blas: 1 when on one
  // thread it measured at least 10 % faster than every other candidate
  // (OpenBLAS's hand-off to its other threads costs more than a small
  // product gains), else kiln::threads() as it was when chosen. The plan's GEMMs run in a fixed order, so which
  // count each call gets is fixed too.
  int threads = 1;
  // Why, in a few words: "measured", "tuning file", "forced by policy xsmm",
  // "policy xsmm has no kernel for this shape", "fixed rule (tuning off)".
  std::string reason;
  // Microseconds per call as measured (now or when the file was written);
  // negative where not measured or the backend has no kernel. blas's entry
  // is on kiln::threads() threads.
  std::array<double, kBackendCount> measured_us = kUnmeasured;
  // blas limited to one thread; measured only when kiln::threads() > 1.
  double blas_one_thread_us = -1.0;

  // The max_threads to prepare the chosen backend with (try_prepare): the
  // thread count when it is below kiln::threads(), else 0 (no limit).
  int max_threads() const;
};

// The backend and thread count for `d` under the current policy (measuring
// when needed). Forced policies and the fixed rule run blas on
// kiln::threads() threads.
Choice choose(const Desc& d);
// choose() then try_prepare(); never null (blas runs everything).
std::unique_ptr<Prepared> prepare_chosen(const Desc& d, Choice* choice = nullptr);

// Microseconds per call of `p` on scratch operands: a bounded measurement
// (about `budget_ms` milliseconds, at least two calls).
double time_prepared(const Prepared& p, double budget_ms = 1.5);

// The tuning file's path for this process's environment.
std::string tuning_path();
// Forgets what was read or measured, so that the next choice re-reads the
// file (for tests, and for a process that changed XDG_CACHE_HOME).
void reset_tuning_state();

// "brand string|feature list", the key that ties a tuning file to a CPU.
std::string cpu_identity();

}  // namespace kiln::gemm
