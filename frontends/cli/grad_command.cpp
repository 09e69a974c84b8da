// kiln grad GRAPH.json --feed NAME=FILE.npy ... --out DIR: the loss and the
// gradient of every param, evaluated once, no update applied.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "compile_flags.hpp"
#include "onnx_flags.hpp"
#include "frontends/json.hpp"
#include "graph/error.hpp"
#include "runtime/feed.hpp"
#include "runtime/npy.hpp"
#include "runtime/plan.hpp"

namespace kiln::cli {
namespace {

struct GradArgs {
  std::string graph_path;
  std::vector<std::string> feeds;
  std::vector<std::string> wrt;
  std::string out_dir;
  std::uint64_t seed = 0;
  CompileFlags flags;  // --no-fuse only: grad applies no optimizer, and simplifying is its own decision below
  OnnxFlags onnx;
};

// "fc1/W" -> "fc1__W": a node name as a file name (GRAPH_FORMAT.md).
std::string file_name_for(const std::string& node) {
  std::string out;
  for (char c : node) {
    if (c == '/') out += "__";
    else out += c;
  }
  return out + ".npy";
}

// Through the compiled Plan, as training runs: a gradient written here is
// the one the plan's updates would apply.
void run_grad(const GradArgs& args) {
  Graph forward = load_graph_file(args.graph_path, args.onnx.options());
  if (!forward.loss())
    throw Error(args.graph_path + ": the graph has no 'loss'; kiln grad needs the scalar node to differentiate");

  PlanOptions options;
  options.compile.fuse = !args.flags.no_fuse;
  if (!args.wrt.empty()) {
    for (NodeId v : forward.ids())
      if (forward[v].op == OpKind::param) options.compile.wrt.push_back(forward[v].name);
    for (const std::string& name : args.wrt) {
      if (!forward.find(name)) throw Error("--wrt '" + name + "': the graph has no node of that name");
      if (std::find(options.compile.wrt.begin(), options.compile.wrt.end(), name) == options.compile.wrt.end())
        options.compile.wrt.push_back(name);
    }
  }

  // Every feed is read and checked against the graph as written, before
  // compiling: the compiled graph may have fused or dropped nodes.
  std::vector<std::pair<std::string, Tensor>> feeds;
  for (const std::string& feed : args.feeds) {
    auto eq = feed.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == feed.size())
      throw Error("--feed '" + feed + "': expected NAME=FILE.npy");
    std::string name = feed.substr(0, eq), path = feed.substr(eq + 1);
    auto id = forward.find(name);
    if (!id) throw Error("--feed '" + feed + "': the graph has no node named '" + name + "'");
    const Node& n = forward[*id];
    if (!n.info().is_leaf())
      throw Error("--feed '" + feed + "': " + describe(forward, *id) + " is computed, not fed; feed an input, " +
                  "labels, param or constant");
    Tensor value = read_npy_as(path, n.shape, n.dtype, name);
    check_feed(forward, *id, value);
    // Constant folding would bake a constant's written value into the
    // nodes that read it, so a graph with a fed constant is not simplified.
    if (n.op == OpKind::constant) options.compile.simplify = false;
    feeds.emplace_back(name, std::move(value));
  }
  options.seed = args.seed;
  Plan plan = compile(forward, options);
  for (const auto& [name, value] : feeds)
    if (plan.graph().find(name)) plan.feed(name, value);  // else nothing the loss depends on reads it
  plan.run();

  // Everything is computed before the first file is written, so a failure
  // leaves no partial result; each file is itself written atomically.
  namespace fs = std::filesystem;
  const Graph& g = plan.graph();
  fs::path out(args.out_dir);
  std::error_code ec;
  fs::create_directories(out / "grad", ec);
  if (ec) throw Error("--out '" + args.out_dir + "': cannot create the directory: " + ec.message());
  write_npy((out / "loss.npy").string(), plan.value(*g.loss()).to_tensor());
  for (auto [of, grad] : g.gradients())
    write_npy((out / "grad" / file_name_for(g[of].name)).string(), plan.value(grad).to_tensor());
  // What ran, so that a run with --no-fuse visibly compiled a different plan.
  std::cout << "plan " << (options.compile.fuse ? "fused" : "unfused") << ", " << g.size() << " nodes, "
            << plan.kernel_calls() << " kernel calls\n";
  std::cout << "loss " << plan.loss() << "\nwrote " << (out / "loss.npy").string() << " and " << g.gradients().size()
            << " gradient" << (g.gradients().size() == 1 ? "" : "s") << " under " << (out / "grad").string() << "\n";
}

void add_grad_command(CLI::App& app) {
  auto args = std::make_shared<GradArgs>();
  auto* cmd = app.add_subcommand("grad", "Evaluate the loss once and write the gradient of every param as .npy");
  cmd->add_option("graph", args->graph_path, "Graph file (JSON, with a 'loss'), or an ONNX model (.onnx)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--feed", args->feeds,
                  "NAME=FILE.npy: a value for an input, labels, param (overrides its init) or constant; "
                  "<f4, <f8, <i4 or <i8, C order")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--wrt", args->wrt, "Also differentiate with respect to this input (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--out", args->out_dir, "Directory for loss.npy and grad/NAME.npy ('/' in a name becomes '__')")
      ->required();
  cmd->add_option("--seed", args->seed, "Seed for params that are initialised rather than fed")->capture_default_str();
  add_fuse_flag(cmd, args->flags);
  add_onnx_flags(cmd, args->onnx, /*with_batch=*/true);
  cmd->footer(
      "Example:\n"
      "  kiln grad examples/graphs/mlp.json --feed x=x.npy --feed y=y.npy --out grads\n"
      "writes grads/loss.npy and grads/grad/fc1__W.npy, grads/grad/fc1__b.npy, ...; the same with --no-fuse\n"
      "and --out grads-unfused gives the gradients without fusion, to compare.");
  cmd->callback([args] { run_grad(*args); });
}

const bool registered = register_command(30, add_grad_command);

}  // namespace
}  // namespace kiln::cli
