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
#include "passes/simplify.hpp"

namespace kiln {
namespace {

struct PassEntry {
  std::string_view name;
  Graph (*run)(const Graph& g, PassStats& stats, const CompileOptions& options);
  bool (*enabled)(const CompileOptions& options);
};

PassOptions keep_outputs(const CompileOptions& o) { return PassOptions{o.outputs}; }

// Before autodiff the nodes to differentiate must survive by name too.
PassOptions keep_outputs_and_wrt(const CompileOptions& o) {
  PassOptions p{o.outputs};
  p.keep.insert(p.keep.end(), o.wrt.begin(), o.wrt.end());
  return p;
}

Graph run_verify(const Graph& g, PassStats& stats, const CompileOptions&) {
  verify(g);
  stats.nodes_before = stats.nodes_after = g.size();
  return g;
}

Graph run_fuse_forward(const Graph& g, PassStats& stats, const CompileOptions& o) {
  return fuse_forward(g, stats, keep_outputs_and_wrt(o));
}

Graph run_autodiff(const Graph& g, PassStats& stats, const CompileOptions& o) {
  stats.nodes_before = g.size();
  Graph out = autodiff(g, AutodiffOptions{o.wrt});
  stats.nodes_after = out.size();
  return out;
}

Graph run_fuse_backward(const Graph& g, PassStats& stats, const CompileOptions& o) {
  return fuse_backward(g, stats, keep_outputs(o));
}

Graph run_simplify(const Graph& g, PassStats& stats, const CompileOptions& o) {
  return simplify(g, stats, keep_outputs(o));
}

// The one list of passes, in order. A new pass is one line here.
constexpr PassEntry kPasses[] = {
    {"verify", run_verify, [](const CompileOptions&) { return true; }},
    {"fuse_forward", run_fuse_forward, [](const CompileOptions& o) { return o.fuse; }},
    {"autodiff", run_autodiff, [](const CompileOptions& o) { return o.differentiate; }},
    // Slot: "optimizer_update" — the update step (SGD, momentum, weight
    // decay, Adam) as Role::update nodes, so backward fusion and simplify
    // see a whole training step.
    {"fuse_backward", run_fuse_backward, [](const CompileOptions& o) { return o.fuse && o.differentiate; }},
    {"simplify", run_simplify, [](const CompileOptions& o) { return o.simplify; }},
    // Slot: "schedule" — a topological order that keeps the live set small.
    // Slot: "memory_plan" — liveness over the schedule, offsets in one arena.
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

void dump(const Graph& g, const CompileOptions& o) {
  if (ends_with(o.dump_path, ".json")) {
    o.dump_json(g, o.dump_path);
    return;
  }
  DotOptions dot;
  dot.title = "after " + o.dump_after;
  std::ofstream out(o.dump_path, std::ios::binary);
  out << to_dot(g, dot);
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

  CompiledGraph result{input, {}};
  for (const PassEntry& pass : kPasses) {
    if (pass.enabled(options)) {
      PassStats stats;
      stats.pass = std::string(pass.name);
      result.graph = pass.run(result.graph, stats, options);
      result.stats.push_back(std::move(stats));
      if (verify_each && pass.name != "verify") {
        try {
          verify(result.graph);
        } catch (const Error& e) {
          throw Error("after pass '" + std::string(pass.name) + "': " + e.what());
        }
      }
    }
    if (pass.name == "autodiff" && pass.enabled(options)) check_outputs(result.graph, made_by_autodiff);
    if (pass.name == options.dump_after) dump(result.graph, options);
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
