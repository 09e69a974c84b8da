// libFuzzer harness: ONNX files through the importer — protobuf decoding and
// its limits, node ordering, op mapping and the loss — then, for what
// imports, kiln::compile as a training step with the verifier after every
// pass and a small memory limit (an input shape the file claims is refused,
// not allocated). The contract: import returns or throws kiln::Error.
#include <string_view>

#include "frontends/onnx/import.hpp"
#include "fuzz_support.hpp"
#include "graph/error.hpp"
#include "runtime/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = kiln::fuzz::scratch_path("model.onnx");
  kiln::fuzz::write_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
  kiln::Graph g;
  try {
    g = kiln::onnx::import_onnx(path);
  } catch (const kiln::Error&) {
    return 0;
  }
  kiln::PlanOptions options;
  options.compile.verify_each_pass = true;
  options.optimizer = kiln::OptimizerOptions{};
  options.max_memory_bytes = 64u << 20;
  try {
    kiln::Plan plan = kiln::compile(g, options);
    (void)plan.kernel_calls();
  } catch (const kiln::Error& e) {
    if (std::string_view(e.what()).rfind("after pass '", 0) == 0) {
      std::fprintf(stderr, "verifier failed after a pass: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
