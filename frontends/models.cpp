#include "frontends/models.hpp"

#include <charconv>
#include <functional>
#include <optional>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "graph/error.hpp"

namespace kiln {
namespace {

// What distinguishes one seed model from another; everything else (layer
// stacking, naming, the loss) is shared.
struct ModelSpec {
  std::string_view name;
  std::int64_t features;
  std::int64_t classes;
  std::vector<std::int64_t> hidden;
  std::int64_t batch;
  Init weight_init;
  double weight_decay;
  bool allows_hidden;  // logreg is linear by definition
};

const std::vector<ModelSpec>& specs() {
  static const std::vector<ModelSpec> all = {
      {"logreg", 64, 10, {}, 1257, Init::zeros(), 0.0, false},
      {"mlp", 784, 10, {100, 200}, 32, Init::normal(0.01), 0.0, true},
      {"spiral-net", 2, 3, {100}, 300, Init::normal(0.01), 1e-3, true},
      {"moons-net", 2, 2, {264, 2}, 1000, Init::he(), 0.0, true},
  };
  return all;
}

Graph build(const ModelSpec& spec, const ModelOptions& options) {
  if (options.batch < 0) throw Error("model '" + std::string(spec.name) + "': expected a positive batch size, found " +
                                     std::to_string(options.batch));
  if (!options.hidden.empty() && !spec.allows_hidden)
    throw Error("model '" + std::string(spec.name) + "' has no hidden layers; found a hidden layer option");
  for (std::int64_t units : options.hidden)
    if (units <= 0)
      throw Error("model '" + std::string(spec.name) + "': expected positive hidden layer sizes, found " +
                  std::to_string(units));

  const std::int64_t batch = options.batch > 0 ? options.batch : spec.batch;
  const std::vector<std::int64_t>& hidden = options.hidden.empty() ? spec.hidden : options.hidden;
  const double decay = options.weight_decay >= 0 ? options.weight_decay : spec.weight_decay;

  Builder g;
  Value x = g.input("x", {batch, spec.features}, options.dtype);
  Value y = g.labels("y", batch, spec.classes);
  Value h = x;
  std::vector<Value> weights;
  for (std::size_t k = 0; k <= hidden.size(); ++k) {
    const bool last = k == hidden.size();
    const std::string layer = "fc" + std::to_string(k + 1);
    h = dense(g, h, last ? spec.classes : hidden[k], layer, spec.weight_init, Init::zeros());
    weights.push_back(Value(&g, g.graph().at(layer + "/W")));  // dense names its weight "<layer>/W"
    if (!last) h = relu(h, layer + "/relu");
  }
  Value loss = softmax_cross_entropy(h, y, decay > 0 ? "data_loss" : "loss");
  if (decay > 0) {
    // 0.5·λ·Σ‖W‖² = λ·Σ l2(W), since l2 is half the sum of squares.
    Value squares = l2(weights[0], "fc1/W/l2");
    for (std::size_t k = 1; k < weights.size(); ++k)
      squares = add(squares, l2(weights[k], "fc" + std::to_string(k + 1) + "/W/l2"), "weights_l2");
    loss = add(loss, scale(squares, decay, "reg_loss"), "loss");
  }
  g.set_loss(loss);
  return std::move(g.graph());
}

}  // namespace

Graph build_model(std::string_view name, const ModelOptions& options) {
  for (const ModelSpec& spec : specs())
    if (spec.name == name) return build(spec, options);
  std::string known;
  for (const std::string& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown model '" + std::string(name) + "', expected one of " + known);
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const ModelSpec& spec : specs()) names.emplace_back(spec.name);
  return names;
}

std::vector<std::int64_t> parse_hidden_sizes(std::string_view text) {
  std::vector<std::int64_t> sizes;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    std::int64_t units = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), units);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || units <= 0)
      throw Error("hidden layer sizes '" + std::string(text) + "': expected positive integers separated by commas, found '" +
                  std::string(item) + "'");
    sizes.push_back(units);
    if (comma == std::string_view::npos) return sizes;
    start = comma + 1;
  }
}

std::int64_t parameter_count(const Graph& g) {
  std::int64_t total = 0;
  for (NodeId id : g.ids())
    if (g[id].op == OpKind::param) total += g[id].shape.numel();
  return total;
}

std::string model_summary(const Graph& g) {
  std::string out = std::to_string(g.size()) + " nodes\nparams:\n";
  for (NodeId id : g.ids())
    if (g[id].op == OpKind::param)
      out += "  " + g[id].name + " " + g[id].shape.str() + " " + std::string(dtype_name(g[id].dtype)) + "\n";
  out += "parameter count: " + std::to_string(parameter_count(g)) + "\n";
  if (auto loss = g.loss()) out += "loss: " + g[*loss].name + "\n";
  return out;
}

}  // namespace kiln
