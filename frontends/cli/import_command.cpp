// kiln import MODEL.onnx -o GRAPH.json: an ONNX model as a kiln graph file,
// its initializers as params whose values go to GRAPH.safetensors beside it.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "frontends/onnx/import.hpp"
#include "frontends/onnx/map_ops.hpp"
#include "graph/error.hpp"
#include "onnx_flags.hpp"

namespace kiln::cli {
namespace {

struct ImportArgs {
  std::string model;
  std::string output;
  bool supported = false;
  OnnxFlags onnx;
};

void run_import(const ImportArgs& args) {
  namespace fs = std::filesystem;
  if (args.supported) {
    for (const std::string& name : onnx::supported_op_names()) std::cout << name << "\n";
    return;
  }
  if (args.model.empty())
    throw Error("expected MODEL.onnx, the ONNX model to import (or --supported to list the ONNX ops kiln imports)");
  if (args.output.empty()) throw Error("-o: expected GRAPH.json, the graph file to write");
  const fs::path output(args.output);
  if (output.extension() != ".json")
    throw Error("-o '" + args.output + "': expected a graph file name ending in .json");
  if (!output.parent_path().empty() && !fs::is_directory(output.parent_path()))
    throw Error("-o '" + args.output + "': the directory '" + output.parent_path().string() + "' does not exist");
  onnx::ImportOptions options = args.onnx.options();
  options.params_file = output.stem().string() + ".safetensors";
  const Graph g = onnx::import_onnx(args.model, options);  // everything is checked before a file is written
  onnx::save_imported_graph(g, args.output);
  std::size_t params = 0;
  for (NodeId id : g.ids()) params += g[id].op == OpKind::param;
  std::cout << "wrote " << args.output << " (" << g.size() << " nodes, loss "
            << onnx::loss_name(options.loss) << ")";
  if (params > 0) std::cout << " and " << (output.parent_path() / options.params_file).string() << " (" << params
                            << " params)";
  std::cout << "\n";
}

void add_import_command(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand("import", "Import an ONNX model (e.g. from torch.onnx.export) as a kiln graph file");
  cmd->add_option("MODEL", args->model, "ONNX model (.onnx)")->check(CLI::ExistingFile)->type_name("MODEL.onnx");
  cmd->add_option("-o,--output", args->output, "graph file to write; the params go to GRAPH.safetensors beside it")
      ->type_name("GRAPH.json");
  cmd->add_flag("--supported", args->supported, "print the ONNX operators kiln imports, one per line, and exit");
  add_onnx_flags(cmd, args->onnx, /*with_batch=*/true);
  cmd->footer("Imports the ops " + onnx::supported_ops() +
              " (opsets 9 to 17; docs/onnx.md); any other op is refused, naming the node, and nothing is written.\n"
              "Every command that reads a graph file also reads an .onnx model directly.\n\n"
              "Example:\n"
              "  kiln import mlp.onnx -o mlp.json\n"
              "writes mlp.json and mlp.safetensors; then: kiln train mlp.json --data fashion-mnist");
  cmd->callback([args] { run_import(*args); });
}

const bool registered = register_command(60, add_import_command);

}  // namespace
}  // namespace kiln::cli
