#pragma once
// The compile options `kiln compile` and `kiln dot --stage planned` share, so
// the picture shows exactly the plan the statistics describe.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <string>

#include "frontends/json.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"
#include "passes/optimizer.hpp"
#include "runtime/plan.hpp"

namespace kiln::cli {

struct CompileFlags {
  bool no_fuse = false;
  bool no_simplify = false;
  std::string optimizer = "sgd";  // or "none": forward and backward only
};

inline void add_fuse_flag(CLI::App* cmd, CompileFlags& flags) {
  cmd->add_flag("--no-fuse", flags.no_fuse, "skip forward and backward fusion (the unfused plan, for comparison)");
}

inline void add_compile_flags(CLI::App* cmd, CompileFlags& flags) {
  add_fuse_flag(cmd, flags);
  cmd->add_flag("--no-simplify", flags.no_simplify, "skip CSE, dead-code elimination, constant folding and algebra");
  cmd->add_option("--optimizer", flags.optimizer,
                  "the update appended to a graph with a loss: sgd (default), momentum, adam, or none (loss and "
                  "gradients only)")
      ->type_name("NAME")
      ->check(CLI::IsMember({"sgd", "momentum", "adam", "none"}));
}

// A training step (forward, backward, the optimizer's update) for a graph
// with a loss; a forward-only evaluation plan for a graph without one.
inline PlanOptions plan_options_for(const Graph& g, const CompileFlags& flags) {
  PlanOptions options;
  options.compile.fuse = !flags.no_fuse;
  options.compile.simplify = !flags.no_simplify;
  options.compile.differentiate = g.loss().has_value();
  if (g.loss() && flags.optimizer != "none") {
    OptimizerOptions optimizer;
    optimizer.kind = parse_optimizer(flags.optimizer);
    options.optimizer = optimizer;
  }
  return options;
}

// A graph file, or the name of a built-in model (frontends/models.hpp) built
// at `batch` (0: the model's default). A file wins over a model of the same
// name, as a path the user typed is what they meant.
inline Graph load_graph_or_model(const std::string& target, std::int64_t batch) {
  if (std::filesystem::exists(target)) {
    if (batch != 0)
      throw Error("--batch " + std::to_string(batch) + ": applies to built-in models only; the shapes of '" + target +
                  "' are fixed by the file");
    return load_graph_file(target);
  }
  std::vector<std::string> models = model_names();
  if (std::find(models.begin(), models.end(), target) == models.end()) {
    std::string list;
    for (const std::string& m : models) list += (list.empty() ? "" : ", ") + m;
    throw Error("'" + target + "': no such graph file, and no built-in model of that name (models: " + list + ")");
  }
  ModelOptions options;
  options.batch = batch;
  return build_model(target, options);
}

}  // namespace kiln::cli
