#include "frontends/train/model_graph.hpp"

#include <charconv>
#include <cmath>
#include <deque>
#include <set>
#include <sstream>
#include <vector>

#include "frontends/json.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"
#include <filesystem>
#include <algorithm>

namespace kiln::train {
namespace {

// The class scores behind node `id`, when it is a classification loss
// against `labels`.
std::optional<NodeId> logits_of(const Graph& g, NodeId id, NodeId labels) {
  const Node& n = g[id];
  std::vector<NodeId> in = g.inputs(id);
  if (n.op == OpKind::softmax_cross_entropy && in.size() == 2 && in[1] == labels) return in[0];
  if (n.op == OpKind::cross_entropy && in.size() == 2 && in[1] == labels) {
    const Node& probabilities = g[in[0]];
    if (probabilities.op == OpKind::softmax) return g.inputs(in[0])[0];
  }
  return std::nullopt;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

[[noreturn]] void bad_init(std::string_view text, const std::string& why) {
  throw Error("--init '" + std::string(text) + "': " + why +
              "; expected zeros, he, xavier, normal:STD, uniform:LOW,HIGH or constant:VALUE");
}

std::string number(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

}  // namespace

ClassifierNodes find_classifier_nodes(const Graph& g, const std::string& source) {
  if (!g.loss()) throw Error(source + ": the graph has no 'loss'; training needs the scalar node to minimise");
  std::optional<NodeId> input, labels;
  for (NodeId id : g.ids()) {
    const Node& n = g[id];
    for (auto [op, slot] : {std::pair{OpKind::input, &input}, std::pair{OpKind::labels, &labels}}) {
      if (n.op != op) continue;
      if (*slot)
        throw Error(source + ": training feeds one " + std::string(op_name(op)) + " node, found two: '" +
                    g[**slot].name + "' and '" + n.name + "'");
      *slot = id;
    }
  }
  if (!input) throw Error(source + ": the graph has no input node to feed the features to");
  if (!labels) throw Error(source + ": the graph has no labels node to feed the class ids to");
  const Node& x = g[*input];
  const Node& y = g[*labels];
  if (x.shape.rank() < 2 || x.shape[0] != y.shape[0])
    throw Error(source + ": input '" + x.name + "' must be [batch, features] or [batch, d1, ..., dk] with the batch " +
                "of labels '" + y.name + "' " + y.shape.str() + ", found " + x.shape.str());

  // Breadth-first from the loss, so the classification term nearest the loss wins.
  std::deque<NodeId> queue{*g.loss()};
  std::set<NodeId> seen{*g.loss()};
  std::optional<NodeId> logits;
  while (!queue.empty() && !logits) {
    NodeId id = queue.front();
    queue.pop_front();
    logits = logits_of(g, id, *labels);
    for (NodeId in : g.inputs(id))
      if (seen.insert(in).second) queue.push_back(in);
  }
  if (!logits)
    throw Error(source + ": no classification loss found: training needs the loss '" + g[*g.loss()].name +
                "' to contain a softmax_cross_entropy (or a cross_entropy of a softmax) against labels '" + y.name +
                "'");
  const Node& z = g[*logits];
  if (z.shape.rank() != 2 || z.shape[0] != x.shape[0] || z.shape[1] != y.attrs.classes)
    throw Error(source + ": the class scores '" + z.name + "' are " + z.shape.str() + ", expected [" +
                std::to_string(x.shape[0]) + ", " + std::to_string(y.attrs.classes) + "]");
  const std::int64_t features = x.shape.numel() / x.shape[0];
  return {x.name, y.name, z.name, x.shape[0], features, y.attrs.classes, x.dtype, x.shape};
}

Graph edit_graph(const Graph& g, const GraphEdits& edits) {
  if (!g.gradients().empty())
    throw Error("the model graph already has gradients; training needs the forward graph (it differentiates it itself)");
  if (edits.batch && *edits.batch < 1)
    throw Error("batch size " + std::to_string(*edits.batch) + ": expected a positive number of rows");
  Graph out;
  std::vector<NodeId> mapped(g.size());
  for (NodeId id : g.ids()) {
    Node n = g[id];
    std::vector<NodeId> inputs;
    for (NodeId in : g.inputs(id)) inputs.push_back(mapped[in]);
    if (edits.batch && (n.op == OpKind::input || n.op == OpKind::labels) && n.shape.rank() >= 1) n.shape[0] = *edits.batch;
    if (edits.init && n.op == OpKind::param) n.attrs.init = *edits.init;
    if (n.info().accepts(AttrId::shape))
      mapped[id] = out.add_explicit(n.op, inputs, n.shape, n.dtype, n.attrs, n.name, n.role);
    else
      mapped[id] = out.add(n.op, inputs, n.attrs, n.name, n.role);
  }
  if (g.loss() && !edits.drop_loss) out.set_loss(mapped[*g.loss()]);
  return out;
}

Init parse_init(std::string_view text) {
  const std::size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const std::string_view args = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  const bool has_args = colon != std::string_view::npos;
  if (kind == "zeros" || kind == "he" || kind == "xavier") {
    if (has_args) bad_init(text, "'" + std::string(kind) + "' takes no argument");
    return kind == "zeros" ? Init::zeros() : kind == "he" ? Init::he() : Init::xavier();
  }
  if (kind == "normal" || kind == "constant") {
    auto v = parse_number(args);
    if (!v) bad_init(text, std::string(kind) + " needs a number after ':'");
    if (kind == "normal") {
      if (*v < 0) bad_init(text, "the standard deviation must not be negative");
      return Init::normal(*v);
    }
    return Init::constant(*v);
  }
  if (kind == "uniform") {
    const std::size_t comma = args.find(',');
    auto low = parse_number(args.substr(0, comma));
    auto high = comma == std::string_view::npos ? std::nullopt : parse_number(args.substr(comma + 1));
    if (!low || !high) bad_init(text, "uniform needs two numbers, LOW,HIGH");
    if (*low > *high) bad_init(text, "LOW is above HIGH");
    return Init::uniform(*low, *high);
  }
  bad_init(text, "unknown initialiser");
}

std::string init_to_string(const Init& init) {
  switch (init.kind) {
    case Init::Kind::zeros: return "zeros";
    case Init::Kind::he: return "he";
    case Init::Kind::xavier: return "xavier";
    case Init::Kind::normal: return "normal:" + number(init.std);
    case Init::Kind::uniform: return "uniform:" + number(init.low) + "," + number(init.high);
    case Init::Kind::constant: return "constant:" + number(init.value);
    case Init::Kind::file: return "file:" + init.path + (init.tensor.empty() ? "" : "#" + init.tensor);
  }
  return "?";
}

ModelSource load_model(const std::string& model, const std::string& hidden, std::optional<double> weight_decay,
                       const onnx::ImportOptions& onnx) {
  const std::vector<std::string> builtins = model_names();
  ModelSource out;
  if (std::find(builtins.begin(), builtins.end(), model) != builtins.end()) {
    ModelOptions options;
    if (!hidden.empty()) options.hidden = parse_hidden_sizes(hidden);
    if (weight_decay) {
      if (!(*weight_decay >= 0) || !std::isfinite(*weight_decay))
        throw Error("--weight-decay " + number(*weight_decay) + ": expected a finite number >= 0");
      options.weight_decay = *weight_decay;
    }
    out.graph = build_model(model, options);
    out.name = model;
    out.builtin = true;
    return out;
  }
  const std::filesystem::path path(model);
  if (path.extension() != ".json" && path.extension() != ".onnx" && !std::filesystem::exists(path)) {
    std::string known;
    for (const std::string& n : builtins) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown model '" + model + "': expected one of " + known +
                ", or a graph file (.json) with a loss, or an ONNX model (.onnx)");
  }
  if (!hidden.empty())
    throw Error("--hidden applies to the built-in models; '" + model + "' is a graph file, whose layers are in the file");
  out.graph = load_graph_file(model, onnx);
  out.name = path.filename().string();
  out.path = model;
  return out;
}

}  // namespace kiln::train
