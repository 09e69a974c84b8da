// kiln dot GRAPH.json [--stage STAGE] [-o FILE]: a picture of a graph at one
// stage of compilation.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "commands.hpp"
#include "compile_flags.hpp"
#include "frontends/json.hpp"
#include "graph/dot.hpp"
#include "graph/error.hpp"
#include "output_files.hpp"
#include "passes/pipeline.hpp"
#include "runtime/plan_dot.hpp"

namespace kiln::cli {

namespace {

struct DotArgs {
  std::string graph_path;
  std::string stage = "input";
  std::string output = "-";
  bool no_fuse = false;
};

// What a stage draws: the graph after its passes, and what to show beyond
// the nodes (clusters of fused nodes, arena offsets, ...).
struct StageView {
  Graph graph;
  DotOptions options;
};

StageView input_stage(Graph loaded, const DotArgs&) { return {std::move(loaded), {}}; }

StageView fused_stage(Graph loaded, const DotArgs& args) {
  CompileOptions options;
  options.differentiate = false;
  options.simplify = false;
  options.fuse = !args.no_fuse;
  return {run_pipeline(loaded, options).graph, {}};
}

StageView backward_stage(Graph loaded, const DotArgs& args) {
  CompileOptions options;
  options.fuse = !args.no_fuse;
  return {run_pipeline(loaded, options).graph, {}};
}

// The plan `kiln compile` builds with the same flags: a training step with
// SGD for a graph with a loss, a forward-only plan otherwise.
StageView planned_stage(Graph loaded, const DotArgs& args) {
  CompileFlags flags;
  flags.no_fuse = args.no_fuse;
  Plan plan = compile(loaded, plan_options_for(loaded, flags));
  StageView view{plan.graph(), planned_dot_options(plan)};
  view.options.title = std::filesystem::path(args.graph_path).stem().string() + ": planned stage, " +
                       std::to_string(plan.graph().size()) + " nodes, " + view.options.title;
  return view;
}

// One row per stage. A stage whose pass has not landed yet has no `make` and
// names the pass that brings it; wiring it is filling in `make`.
struct Stage {
  std::string_view name;
  std::string_view shows;
  StageView (*make)(Graph loaded, const DotArgs& args);
  std::string_view arrives_with;
};

constexpr Stage kStages[] = {
    {"input", "the graph as read from the file", input_stage, ""},
    {"fused", "after forward fusion (matmul + add -> affine, ...)", fused_stage, ""},
    {"backward", "with the backward graph from autodiff, fused and simplified", backward_stage, ""},
    {"planned", "the compiled training step (SGD), with each buffer's arena offset and size", planned_stage, ""},
};

const Stage& find_stage(const std::string& name) {
  for (const Stage& s : kStages)
    if (s.name == name) return s;
  throw Error("unknown stage '" + name + "'");  // CLI11 has already checked the name
}

// The Graphviz output format a file name asks for; "" for DOT text.
std::string format_for(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".dot" || ext == ".gv") return "";
  if (ext == ".svg" || ext == ".png" || ext == ".pdf") return ext.substr(1);
  throw Error("cannot tell what to write to '" + path + "': name it .dot or .gv (DOT text), .svg, .png or .pdf " +
              "(rendered by Graphviz), or use -o - for DOT on stdout");
}

void run_dot(const DotArgs& args) {
  const Stage& stage = find_stage(args.stage);
  if (!stage.make)
    throw Error("stage '" + args.stage + "' is not available yet: it arrives with " + std::string(stage.arrives_with) +
                "; use --stage input");
  bool to_stdout = args.output == "-";
  std::string format = to_stdout ? "" : format_for(args.output);

  StageView view = stage.make(load_graph_file(args.graph_path), args);
  if (view.options.title.empty())
    view.options.title = std::filesystem::path(args.graph_path).stem().string() + ": " + args.stage + " stage, " +
                         std::to_string(view.graph.size()) + " nodes";
  std::string text = to_dot(view.graph, view.options);

  if (to_stdout) {
    std::cout << text << std::flush;
    return;
  }
  if (format.empty())
    write_file_atomically(args.output, text);
  else
    render_with_graphviz(text, args.output, format);
  std::cout << "wrote " << args.output << " (" << args.stage << " stage, " << view.graph.size() << " nodes)\n";
}

std::string stage_help() {
  std::string help = "which stage to draw (default input):";
  for (const Stage& s : kStages) {
    help += "\n  " + std::string(s.name) + ": " + std::string(s.shows);
    if (!s.make) help += " (not available yet: arrives with " + std::string(s.arrives_with) + ")";
  }
  return help;
}

void add_dot_command(CLI::App& app) {
  auto args = std::make_shared<DotArgs>();
  auto* cmd = app.add_subcommand("dot", "Draw a graph file with Graphviz at one stage of compilation");
  cmd->add_option("GRAPH", args->graph_path, "kiln graph file (JSON, see docs/GRAPH_FORMAT.md)")
      ->required()
      ->type_name("FILE");
  std::vector<std::string> names;
  for (const Stage& s : kStages) names.emplace_back(s.name);
  cmd->add_option("--stage", args->stage, stage_help())->type_name("STAGE")->check(CLI::IsMember(names));
  cmd->add_option("-o,--output", args->output,
                  "where to write: FILE.dot or FILE.gv (DOT text), FILE.svg, FILE.png or FILE.pdf (rendered by "
                  "Graphviz's dot), or - for DOT on stdout (the default)")
      ->type_name("FILE");
  cmd->add_flag("--no-fuse", args->no_fuse, "draw the fused, backward or planned stage without fusion");
  cmd->footer(
      "Nodes are coloured by kind (param, input, forward, backward, gradient sum, fused, update; see the legend),\n"
      "labelled with name, op and shape; edges carry the operand index when an op has several.\n\n"
      "Examples:\n"
      "  kiln dot examples/graphs/mlp.json -o mlp.svg\n"
      "  kiln dot model.json --stage input | dot -Tpng > model.png\n"
      "  kiln dot examples/graphs/mlp.json --stage planned -o mlp-planned.svg");
  cmd->callback([args] { run_dot(*args); });
}

const bool registered = register_command(20, add_dot_command);

}  // namespace

}  // namespace kiln::cli
