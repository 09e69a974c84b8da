// libFuzzer harness: graph files through the whole front of the compiler —
// parse_graph_json, verify, then compile() to a Plan both forward-only and
// as a training step (autodiff, fusion, simplification, optimizer update,
// schedule, memory plan, kernel binding), with the verifier after every
// pass and a small memory limit so that a hostile shape is refused, not
// allocated.
//
// A verifier failure after a pass ("after pass '...'") is a compiler bug,
// not bad input, so it aborts like a crash.
#include <cstring>
#include <string_view>

#include "frontends/json.hpp"
#include "graph/error.hpp"
#include "graph/verify.hpp"
#include "runtime/plan.hpp"

namespace {

constexpr std::size_t kMaxMemoryBytes = 64u << 20;

void compile_checked(const kiln::Graph& g, bool train) {
  kiln::PlanOptions options;
  options.compile.verify_each_pass = true;
  options.compile.differentiate = train;
  if (train) options.optimizer = kiln::OptimizerOptions{};
  options.max_memory_bytes = kMaxMemoryBytes;
  try {
    kiln::Plan plan = kiln::compile(g, options);
    (void)plan.kernel_calls();
  } catch (const kiln::Error& e) {
    if (std::string_view(e.what()).rfind("after pass '", 0) == 0) {
      std::fprintf(stderr, "verifier failed after a pass: %s\n", e.what());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kiln::Graph g;
  try {
    g = kiln::parse_graph_json(text, "<fuzz>");
    kiln::verify(g);
  } catch (const kiln::Error&) {
    return 0;
  }
  compile_checked(g, /*train=*/false);
  compile_checked(g, /*train=*/true);
  return 0;
}
