// The CPU a tuning file belongs to: its brand string and the feature words
// of CPUID leaves 1 and 7, which change between models and between hosts
// that expose different instruction sets to a virtual machine.
#include <cpuid.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "runtime/gemm/choice.hpp"

namespace kiln::gemm {

std::string cpu_identity() {
  unsigned regs[12] = {};
  std::string brand;
  unsigned max_extended = __get_cpuid_max(0x80000000u, nullptr);
  if (max_extended >= 0x80000004u) {
    for (unsigned i = 0; i < 3; ++i)
      __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    char text[49] = {};
    std::memcpy(text, regs, 48);
    brand = text;
    while (!brand.empty() && brand.back() == ' ') brand.pop_back();
    while (!brand.empty() && brand.front() == ' ') brand.erase(brand.begin());
  }
  if (brand.empty()) brand = "unknown";
  for (char& c : brand)
    if (c == '|' || c == '\n') c = ' ';
  unsigned a = 0, b = 0, c = 0, d = 0, b7 = 0, c7 = 0, d7 = 0;
  __get_cpuid(1, &a, &b, &c, &d);
  unsigned a7 = 0;
  __get_cpuid_count(7, 0, &a7, &b7, &c7, &d7);
  char features[96];
  std::snprintf(features, sizeof features, "family-model %08x features %08x %08x %08x %08x %08x", a, c, d, b7, c7, d7);
  return brand + "|" + features;
}

}  // namespace kiln::gemm
