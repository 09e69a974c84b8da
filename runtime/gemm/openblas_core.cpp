// Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels by CPU *model*
// when it loads. On an AVX-512 CPU it does not know (AMD Zen 5, family 26) it
// falls back to its Haswell (AVX2) kernels and runs at half speed, unless
// OPENBLAS_CORETYPE names a core before the library initialises -- which is
// before any constructor of ours can run, since a shared library's
// initialisers run before those of the program that needs it.
//
// OpenBLAS's own re-initialisation entry points are exported, though:
// gotoblas_dynamic_quit() drops the kernel table and gotoblas_dynamic_init()
// picks it again, honouring OPENBLAS_CORETYPE. So at start-up (a constructor
// here, and once more lazily before the first GEMM is prepared), when no
// OPENBLAS_CORETYPE was given, the running core lacks AVX-512, and the CPU
// and the OS support AVX-512 F/CD/BW/DQ/VL, kiln re-initialises OpenBLAS with
// its SkylakeX kernels. The symbols are looked up with dlsym, so any other
// CBLAS (or an OpenBLAS without DYNAMIC_ARCH) is simply left alone.
#include <cpuid.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "runtime/gemm/backends.hpp"

namespace kiln::gemm::detail {
namespace {

using CharFn = char* (*)();
using VoidFn = void (*)();

template <class F>
F lookup(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

bool os_and_cpu_have_avx512() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  if (!(c & (1u << 27))) return false;  // OSXSAVE
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0xE6u) != 0xE6u) return false;  // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const unsigned needed = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);  // F DQ CD BW VL
  return (b & needed) == needed;
}

bool core_has_avx512(const std::string& core) {
  for (const char* wide : {"SkylakeX", "Cooperlake", "SapphireRapids"})
    if (core == wide) return true;
  return false;
}

std::string running_core() {
  CharFn get = lookup<CharFn>("openblas_get_corename");
  if (!get) return {};
  const char* name = get();
  return name ? name : "";
}

std::string& switched_from() {
  static std::string from;
  return from;
}

void switch_if_needed() {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user chose; respect it
  const std::string core = running_core();
  if (core.empty() || core_has_avx512(core) || !os_and_cpu_have_avx512()) return;
  VoidFn quit = lookup<VoidFn>("gotoblas_dynamic_quit");
  VoidFn init = lookup<VoidFn>("gotoblas_dynamic_init");
  if (!quit || !init) return;
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
  quit();
  init();
  unsetenv("OPENBLAS_CORETYPE");  // child processes detect for themselves
  if (running_core() != core) switched_from() = core;
}

std::once_flag once;

// Early, so that even the first BLAS call of the program (kiln's or not)
// runs the wide kernels.
__attribute__((constructor)) void switch_at_start_up() { std::call_once(once, switch_if_needed); }

}  // namespace

void ensure_openblas_full_isa() { std::call_once(once, switch_if_needed); }

std::string blas_core() {
  ensure_openblas_full_isa();
  const std::string core = running_core();
  return core.empty() ? "cblas" : core;
}

std::string blas_isa() {
  ensure_openblas_full_isa();
  CharFn config = lookup<CharFn>("openblas_get_config");
  const std::string core = running_core();
  if (core.empty()) return "CBLAS (not OpenBLAS: its kernels are not known)";
  std::string s = std::string(config ? config() : "OpenBLAS") + "; core " + core;
  if (!switched_from().empty())
    s += " (switched from " + switched_from() + ": an AVX-512 CPU this OpenBLAS does not recognise)";
  else if (const char* asked = std::getenv("OPENBLAS_CORETYPE"))
    s += std::string(" (as OPENBLAS_CORETYPE=") + asked + " asks; kiln leaves an explicit choice alone)";
  return s;
}

}  // namespace kiln::gemm::detail
