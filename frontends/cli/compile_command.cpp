// kiln compile GRAPH.json|MODEL: compiles a graph into a Plan and reports
// what the passes did and the memory the plan needs, as text or as one JSON
// object (for scripts and `kiln bench`).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "compile_flags.hpp"
#include "frontends/json.hpp"
#include "graph/error.hpp"
#include "passes/pipeline.hpp"
#include "runtime/plan.hpp"
#include "runtime/plan_memory.hpp"

namespace kiln::cli {
namespace {

struct CompileArgs {
  std::string target;
  CompileFlags flags;
  std::int64_t batch = 0;
  bool stats = false;
  bool json = false;
  std::string dump_after, dump_path;
  std::string max_memory;
};

std::string what_it_runs(const Graph& g, const PlanOptions& o) {
  if (!g.loss()) return "forward only (the graph has no loss)";
  std::string s = o.optimizer ? "training step with " + std::string(optimizer_name(o.optimizer->kind))
                              : "loss and gradients (no update)";
  return s + (o.compile.fuse ? ", fused" : ", unfused") + (o.compile.simplify ? "" : ", not simplified");
}

nlohmann::ordered_json stats_json(const std::vector<PassStats>& stats) {
  auto passes = nlohmann::ordered_json::array();
  for (const PassStats& s : stats) {
    nlohmann::ordered_json fired = nlohmann::ordered_json::object();
    for (const auto& [rule, n] : s.fired) fired[rule] = n;
    passes.push_back({{"pass", s.pass}, {"nodes_before", s.nodes_before}, {"nodes_after", s.nodes_after},
                      {"fired", fired}});
  }
  return passes;
}

nlohmann::ordered_json memory_json(const PlanMemory& m, std::size_t limit) {
  return {{"arena_bytes", m.arena_bytes},
          {"lower_bound_bytes", m.lower_bound},
          {"naive_bytes", m.naive_bytes},
          {"scratch_bytes", m.scratch_bytes},
          {"efficiency", m.efficiency()},
          {"fed_bytes", m.fed_bytes},
          {"param_bytes", m.param_bytes},
          {"optimizer_state_bytes", m.optimizer_state_bytes},
          {"constant_bytes", m.constant_bytes},
          {"total_bytes", m.total_bytes()},
          {"max_memory_bytes", limit}};
}

std::string bytes_line(const std::string& label, std::size_t bytes) {
  std::string padded = label + std::string(label.size() < 17 ? 17 - label.size() : 0, ' ');
  return "  " + padded + format_bytes(bytes) + " (" + std::to_string(bytes) + " B)\n";
}

std::string memory_text(const PlanMemory& m, std::size_t limit) {
  std::ostringstream out;
  out << "memory\n"
      << bytes_line("arena", m.arena_bytes) << bytes_line("lower bound", m.lower_bound)
      << bytes_line("naive sum", m.naive_bytes) << bytes_line("kernel scratch", m.scratch_bytes);
  char efficiency[32];
  std::snprintf(efficiency, sizeof efficiency, "%.1f%%", 100.0 * m.efficiency());
  out << "  efficiency       " << efficiency << " (lower bound / arena)\n"
      << bytes_line("fed inputs", m.fed_bytes) << bytes_line("params", m.param_bytes)
      << bytes_line("optimizer state", m.optimizer_state_bytes) << bytes_line("constants", m.constant_bytes)
      << bytes_line("total", m.total_bytes()) << "  limit            " << format_bytes(limit)
      << " (--max-memory)\n";
  return out.str();
}

void run_compile(const CompileArgs& args) {
  Graph g = load_graph_or_model(args.target, args.batch);
  PlanOptions options = plan_options_for(g, args.flags);
  if (!args.max_memory.empty()) options.max_memory_bytes = parse_byte_size(args.max_memory);
  if (args.dump_after.empty() != args.dump_path.empty())
    throw Error(args.dump_after.empty() ? "--dump '" + args.dump_path + "' needs --dump-after PASS"
                                        : "--dump-after '" + args.dump_after + "' needs --dump FILE.dot|FILE.json");
  options.compile.dump_after = args.dump_after;
  options.compile.dump_path = args.dump_path;
  options.compile.dump_json = [](const Graph& graph, const std::string& path) { save_graph_file(graph, path); };
  const std::size_t limit = options.max_memory_bytes ? options.max_memory_bytes : default_max_memory_bytes();

  Plan plan = compile(g, options);
  const PlanMemory needs = plan.memory_needs();
  const std::size_t nodes_in = g.size(), nodes_out = plan.graph().size();

  if (args.json) {
    nlohmann::ordered_json out = {
        {"graph", args.target},
        {"runs", what_it_runs(g, options)},
        {"fuse", options.compile.fuse},
        {"simplify", options.compile.simplify},
        {"optimizer", options.optimizer ? std::string(optimizer_name(options.optimizer->kind)) : "none"},
        {"nodes_in", nodes_in},
        {"nodes_compiled", nodes_out},
        {"steps", plan.order().size()},
        {"kernel_calls", plan.kernel_calls()},
        {"passes", stats_json(plan.stats())},
        {"memory", memory_json(needs, limit)}};
    if (!args.dump_path.empty()) out["dumped"] = {{"after", args.dump_after}, {"path", args.dump_path}};
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << args.target << ": " << what_it_runs(g, options) << "\n"
            << nodes_in << " nodes in, " << nodes_out << " compiled, " << plan.order().size() << " scheduled, "
            << plan.kernel_calls() << " kernel calls per step\n";
  if (args.stats) std::cout << "\n" << format_stats(plan.stats()) << "\n";
  std::cout << memory_text(needs, limit);
  if (!args.dump_path.empty()) std::cout << "wrote " << args.dump_path << " (after " << args.dump_after << ")\n";
}

void add_compile_command(CLI::App& app) {
  auto args = std::make_shared<CompileArgs>();
  auto* cmd = app.add_subcommand("compile", "Compile a graph or built-in model into a plan; report passes and memory");
  cmd->add_option("GRAPH", args->target,
                  "kiln graph file (JSON, see docs/GRAPH_FORMAT.md) or a built-in model: " + [] {
                    std::string list;
                    for (const std::string& m : model_names()) list += (list.empty() ? "" : ", ") + m;
                    return list;
                  }())
      ->required()
      ->type_name("GRAPH|MODEL");
  add_compile_flags(cmd, args->flags);
  cmd->add_option("--batch", args->batch, "batch size of a built-in model (default: the model's own)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--stats", args->stats, "print each pass with its node counts and the rewrite rules that fired");
  cmd->add_flag("--json", args->json, "print everything (passes, memory) as one JSON object");
  std::string passes;
  for (const std::string& p : pipeline_pass_names()) passes += (passes.empty() ? "" : ", ") + p;
  cmd->add_option("--dump-after", args->dump_after,
                  "write the graph as it stands after this pipeline pass (" + passes +
                      ") to --dump; a DOT dump after schedule also shows each node's step, one after memory_plan "
                      "also its buffer's arena offset and size")
      ->type_name("PASS");
  cmd->add_option("--dump", args->dump_path, "where --dump-after writes: FILE.dot (Graphviz) or FILE.json")
      ->type_name("FILE");
  cmd->add_option("--max-memory", args->max_memory,
                  "refuse a plan that needs more (arena + params + optimizer state + constants): bytes, or with "
                  "K, M, G, T (binary), e.g. 512M, 2G; default half of physical memory")
      ->type_name("SIZE");
  cmd->footer(
      "Examples:\n"
      "  kiln compile mlp --stats\n"
      "  kiln compile mlp --batch 256 --optimizer adam --json\n"
      "  kiln compile examples/graphs/mlp.json --no-fuse --dump-after autodiff --dump mlp-backward.dot\n"
      "  kiln compile mlp --dump-after memory_plan --dump mlp-planned.dot");
  cmd->callback([args] { run_compile(*args); });
}

const bool registered = register_command(25, add_compile_command);

}  // namespace
}  // namespace kiln::cli
