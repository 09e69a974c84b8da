// libFuzzer harness: safetensors checkpoints through read_checkpoint; a
// successful read is saved and read back (exact round trip) and loaded into
// a store built from it with one tensor's shape changed, which must be
// refused with kiln::Error, not crash.
#include <cstring>

#include "fuzz_support.hpp"
#include "graph/error.hpp"
#include "runtime/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string in_path = kiln::fuzz::scratch_path("in.safetensors");
  static const std::string out_path = kiln::fuzz::scratch_path("out.safetensors");
  kiln::fuzz::write_file(in_path, std::string_view(reinterpret_cast<const char*>(data), size));
  kiln::Checkpoint c;
  try {
    c = kiln::read_checkpoint(in_path);
  } catch (const kiln::Error&) {
    return 0;
  }
  try {
    kiln::save_checkpoint(out_path, c);
  } catch (const kiln::Error&) {
    return 0;  // e.g. metadata that is not UTF-8: refused on save, by design
  }
  kiln::Checkpoint back = kiln::read_checkpoint(out_path);
  if (back.tensors.size() != c.tensors.size() || back.metadata != c.metadata) std::abort();
  for (const auto& [name, t] : c.tensors) {
    auto it = back.tensors.find(name);
    if (it == back.tensors.end() || it->second.shape() != t.shape() || it->second.dtype() != t.dtype() ||
        std::memcmp(it->second.raw(), t.raw(), t.bytes()) != 0)
      std::abort();
  }
  kiln::ParamStore store;
  for (const auto& [name, t] : c.tensors) store.add(name, t.shape(), t.dtype());
  kiln::load_checkpoint_into(out_path, store);  // must match exactly
  if (!c.tensors.empty()) {
    kiln::ParamStore other;
    bool first = true;
    for (const auto& [name, t] : c.tensors) {
      std::vector<std::int64_t> dims = t.shape().dims();
      if (first) dims.push_back(2);
      first = false;
      other.add(name, kiln::Shape(dims), t.dtype());
    }
    try {
      kiln::load_checkpoint_into(out_path, other);
      std::abort();  // a mismatched shape was accepted
    } catch (const kiln::Error&) {
    }
  }
  return 0;
}
