// libFuzzer harness: .npy files through read_npy, and a successful read
// written back and read again (the writer must accept what the reader does
// and the round trip must be exact).
#include <cstring>

#include "fuzz_support.hpp"
#include "graph/error.hpp"
#include "runtime/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string in_path = kiln::fuzz::scratch_path("in.npy");
  static const std::string out_path = kiln::fuzz::scratch_path("out.npy");
  kiln::fuzz::write_file(in_path, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    kiln::Tensor t = kiln::read_npy(in_path);
    kiln::write_npy(out_path, t);
    kiln::Tensor back = kiln::read_npy(out_path);
    if (back.shape() != t.shape() || back.dtype() != t.dtype() || std::memcmp(back.raw(), t.raw(), t.bytes()) != 0)
      std::abort();  // the round trip changed the tensor
  } catch (const kiln::Error&) {
  }
  return 0;
}
