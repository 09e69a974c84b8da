#include "passes/pipeline.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "graph/dot.hpp"
#include "graph/error.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "passes/fuse_backward.hpp"
#include "passes/fuse_forward.hpp"
#include "passes/fuse_update.hpp"
#include "passes/liveness.hpp"
#include "passes/schedule_dot.hpp"
#include "passes/simplify.hpp"

namespace kiln {
namespace {

// A pass reads and extends the compilation so far: most replace its graph,
// schedule and memory_plan add their analysis of it.
struct PassEntry {
  std::string_view name;
  void (*run)(CompiledGraph& c, PassStats& stats, const CompileOptions& options);
  bool (*enabled)(const CompileOptions& options);
  // What verify_each_pass checks after the pass: graph/verify.hpp's verifier
  // for a pass that changes the graph, the pass's own checker for an
  // analysis. Null for verify, which is that check.
  void (*check)(const CompiledGraph& c);
};

PassOptions keep_outputs(const CompileOptions& o) { return PassOptions{o.outputs}; }

// Before autodiff the nodes to differentiate must survive by name too.
PassOptions keep_outputs_and_wrt(const CompileOptions& o) {
  PassOptions p{o.outputs};
  p.keep.insert(p.keep.end(), o.wrt.begin(), o.wrt.end());
  return p;
}

void run_verify(CompiledGraph& c, PassStats& stats, const CompileOptions&) {
  verify(c.graph);
  stats.nodes_before = stats.nodes_after = c.graph.size();
}

void run_fuse_forward(CompiledGraph& c, PassStats& stats, const CompileOptions& o) {
  c.graph = fuse_forward(c.graph, stats, keep_outputs_and_wrt(o));
}

void run_autodiff(CompiledGraph& c, PassStats& stats, const CompileOptions& o) {
  stats.nodes_before = c.graph.size();
  c.graph = autodiff(c.graph, AutodiffOptions{o.wrt});
  stats.nodes_after = c.graph.size();
}

void run_fuse_backward(CompiledGraph& c, PassStats& stats, const CompileOptions& o) {
  c.graph = fuse_backward(c.graph, stats, keep_outputs(o));
}

void run_simplify(CompiledGraph& c, PassStats& stats, const CompileOptions& o) {
  c.graph = simplify(c.graph, stats, keep_outputs(o));
}

// Counts the params the update overwrites under the optimizer's name.
void run_optimizer_update(CompiledGraph& c, PassStats& stats, const CompileOptions& o) {
  stats.nodes_before = c.graph.size();
  c.graph = append_optimizer(c.graph, *o.optimizer);
  stats.nodes_after = c.graph.size();
  int updates = 0;
  for (NodeId id : c.graph.ids())
    if (c.graph[id].info().category == Category::update && overwritten_persistent(c.graph, id)) ++updates;
  stats.count(std::string(optimizer_name(o.optimizer->kind)), updates);
}

void run_allreduce(CompiledGraph& c, PassStats& stats, const CompileOptions& o) {
  c.graph = insert_allreduce(c.graph, stats, o.allreduce);
}

void run_fuse_update(CompiledGraph& c, PassStats& stats, const CompileOptions& o) {
  c.graph = fuse_update(c.graph, stats, keep_outputs(o));
}

std::vector<NodeId> output_ids(const Graph& g, const CompileOptions& o) {
  std::vector<NodeId> ids;
  for (const std::string& name : o.outputs) ids.push_back(g.at(name));
  return ids;
}

void run_schedule(CompiledGraph& c, PassStats& stats, const CompileOptions& o) {
  ScheduleOptions schedule_options;
  schedule_options.outputs = output_ids(c.graph, o);
  stats.nodes_before = c.graph.size();
  c.schedule = schedule_with_report(c.graph, schedule_options);
  stats.nodes_after = c.schedule->order.size();
  if (!c.schedule->dropped.empty()) stats.count("dropped", static_cast<int>(c.schedule->dropped.size()));
}

// The one place MemoryOptions is made for the pipeline: the caller's options
// with the outputs that must survive the step. Fed slots are among them when
// keep_fed_values asks: a batch written before one step is then intact after
// it, so it can be read back or stepped again, and the next batch can be
// written without clobbering the values just computed. (Only for the memory
// plan: as schedule outputs they would change which nodes the schedule counts
// as needed.)
MemoryOptions memory_options_for(const Graph& g, const std::vector<NodeId>& order, const CompileOptions& o) {
  MemoryOptions memory = o.memory;
  memory.outputs = output_ids(g, o);
  if (o.keep_fed_values)
    for (NodeId id : order)
      if (is_fed(g, id) && std::find(memory.outputs.begin(), memory.outputs.end(), id) == memory.outputs.end())
        memory.outputs.push_back(id);
  return memory;
}

void run_memory_plan(CompiledGraph& c, PassStats& stats, const CompileOptions& o) {
  const std::vector<NodeId>& order = c.schedule->order;
  c.memory = plan_memory(c.graph, order, memory_options_for(c.graph, order, o));
  stats.nodes_before = stats.nodes_after = order.size();
  stats.count("buffers", static_cast<int>(c.memory->buffers.size()));
  stats.count("in_place", static_cast<int>(std::count_if(c.memory->buffers.begin(), c.memory->buffers.end(),
                                                          [](const BufferPlan& b) { return b.reuses.has_value(); })));
}

void check_graph(const CompiledGraph& c) { verify(c.graph); }
void check_schedule(const CompiledGraph& c) { verify_schedule(c.graph, c.schedule->order); }
void check_memory_plan(const CompiledGraph& c) { verify_memory_plan(c.graph, c.schedule->order, *c.memory); }

bool scheduled(const CompileOptions& o) { return o.schedule || o.plan_memory; }

// The one list of passes, in order. A new pass is one line here.
constexpr PassEntry kPasses[] = {
    {"verify", run_verify, [](const CompileOptions&) { return true; }, nullptr},
    {"fuse_forward", run_fuse_forward, [](const CompileOptions& o) { return o.fuse; }, check_graph},
    {"autodiff", run_autodiff, [](const CompileOptions& o) { return o.differentiate; }, check_graph},
    {"fuse_backward", run_fuse_backward, [](const CompileOptions& o) { return o.fuse && o.differentiate; },
     check_graph},
    {"simplify", run_simplify, [](const CompileOptions& o) { return o.simplify; }, check_graph},
    // After simplify, so the update reads the simplified gradients.
    {"optimizer_update", run_optimizer_update, [](const CompileOptions& o) { return o.optimizer.has_value(); },
     check_graph},
    // After the update is appended and before fuse_update, which then leaves
    // the reduced gradients unfolded.
    // ranks != 1 rather than > 1, so that insert_allreduce refuses ranks < 1.
    {"allreduce", run_allreduce, [](const CompileOptions& o) { return o.allreduce.ranks != 1 && o.differentiate; },
     check_graph},
    // After the optimizer, since it fuses across the gradient and the update.
    {"fuse_update", run_fuse_update,
     [](const CompileOptions& o) { return o.optimizer && o.fuse && !o.keep_weight_gradients; }, check_graph},
    {"schedule", run_schedule, scheduled, check_schedule},
    {"memory_plan", run_memory_plan, [](const CompileOptions& o) { return o.plan_memory; }, check_memory_plan},
};

std::string joined_pass_names() {
  std::string out;
  for (const PassEntry& p : kPasses) out += (out.empty() ? "" : ", ") + std::string(p.name);
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void check_dump_options(const CompileOptions& o) {
  if (o.dump_after.empty() && o.dump_path.empty()) return;
  if (o.dump_after.empty())
    throw Error("dump path '" + o.dump_path + "' is set but not the pass to dump after; the passes are: " +
                joined_pass_names());
  bool known = std::any_of(std::begin(kPasses), std::end(kPasses),
                           [&](const PassEntry& p) { return p.name == o.dump_after; });
  if (!known)
    throw Error("dump after '" + o.dump_after + "': no pass has that name; the passes are: " + joined_pass_names());
  if (o.dump_path.empty()) throw Error("dump after '" + o.dump_after + "': no dump path given");
  if (ends_with(o.dump_path, ".json")) {
    if (!o.dump_json)
      throw Error("dump path '" + o.dump_path +
                  "': JSON dumps need a JSON writer (CompileOptions::dump_json), and none was given");
  } else if (!ends_with(o.dump_path, ".dot")) {
    throw Error("dump path '" + o.dump_path + "': expected a file name ending in .dot or .json");
  }
}

// Options the passes would only trip over later, or silently ignore.
void check_pass_options(const CompileOptions& o) {
  if (o.optimizer && !o.differentiate)
    throw Error("an optimizer update needs gradients, but compile.differentiate is false");
  if (!o.memory.outputs.empty())
    throw Error("CompileOptions::memory.outputs must be empty (node ids change in the passes): name the nodes in "
                "CompileOptions::outputs instead");
}

// The dump shows what the passes so far decided: after schedule each node's
// step, after memory_plan also each buffer's place in the arena.
DotOptions dump_dot_options(const CompiledGraph& c, const CompileOptions& o) {
  DotOptions dot;
  if (c.schedule && (o.dump_after == "schedule" || o.dump_after == "memory_plan")) {
    const MemoryPlan* memory = c.memory && o.dump_after == "memory_plan" ? &*c.memory : nullptr;
    dot = schedule_dot_options(c.graph, c.schedule->order, memory);
    dot.title = std::to_string(c.schedule->order.size()) + " steps";
    if (memory) dot.title += "; " + memory->summary();
  }
  dot.title = "after " + o.dump_after + (dot.title.empty() ? "" : ": " + dot.title);
  return dot;
}

void dump(const CompiledGraph& c, const CompileOptions& o) {
  if (ends_with(o.dump_path, ".json")) {
    o.dump_json(c.graph, o.dump_path);
    return;
  }
  std::ofstream out(o.dump_path, std::ios::binary);
  out << to_dot(c.graph, dump_dot_options(c, o));
  out.close();
  if (!out) throw Error("dump path '" + o.dump_path + "': cannot write the file");
}

bool verify_requested(const CompileOptions& o) {
  if (o.verify_each_pass) return true;
  const char* env = std::getenv("KILN_VERIFY_EVERY_PASS");
  return env && *env && std::string_view(env) != "0";
}

}  // namespace

std::vector<std::string> pipeline_pass_names() {
  std::vector<std::string> out;
  for (const PassEntry& p : kPasses) out.emplace_back(p.name);
  return out;
}

CompiledGraph run_pipeline(const Graph& input, const CompileOptions& options) {
  check_dump_options(options);
  check_pass_options(options);
  // A name the input lacks may be a node autodiff makes (a gradient such as
  // "grad/fc1/W"): checked again once autodiff has run.
  std::vector<std::string> made_by_autodiff;
  auto check_outputs = [](const Graph& g, const std::vector<std::string>& names) {
    for (const std::string& name : names)
      if (!g.find(name)) throw Error("output '" + name + "': no node has that name");
  };
  for (const std::string& name : options.outputs)
    if (!input.find(name)) made_by_autodiff.push_back(name);
  if (!options.differentiate) check_outputs(input, made_by_autodiff);
  bool verify_each = verify_requested(options);

  CompiledGraph result{input, {}, std::nullopt, std::nullopt};
  for (const PassEntry& pass : kPasses) {
    if (pass.enabled(options)) {
      PassStats stats;
      stats.pass = std::string(pass.name);
      pass.run(result, stats, options);
      result.stats.push_back(std::move(stats));
      if (verify_each && pass.check) {
        try {
          pass.check(result);
        } catch (const Error& e) {
          throw Error("after pass '" + std::string(pass.name) + "': " + e.what());
        }
      }
    }
    if (pass.name == "autodiff" && pass.enabled(options)) check_outputs(result.graph, made_by_autodiff);
    if (pass.name == options.dump_after) dump(result, options);
  }
  return result;
}

std::string format_stats(const std::vector<PassStats>& stats) {
  std::size_t width = 4;
  for (const PassStats& s : stats) width = std::max(width, s.pass.size());
  auto pad_right = [](std::string s, std::size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  auto pad_left = [](std::string s, std::size_t w) { return std::string(w > s.size() ? w - s.size() : 0, ' ') + s; };
  std::ostringstream out;
  out << pad_right("pass", width) << "  nodes before  after  fired\n";
  for (const PassStats& s : stats) {
    out << pad_right(s.pass, width) << "  " << pad_left(std::to_string(s.nodes_before), 12) << "  "
        << pad_left(std::to_string(s.nodes_after), 5) << "  ";
    if (s.fired.empty()) out << "-";
    bool first = true;
    for (const auto& [rule, n] : s.fired) {
      out << (first ? "" : " ") << rule << "=" << n;
      first = false;
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace kiln
