#include "frontends/onnx/import.hpp"

#include <filesystem>

#include "frontends/builder.hpp"
#include "frontends/json.hpp"
#include "frontends/onnx/attach_loss.hpp"
#include "frontends/onnx/graph_order.hpp"
#include "frontends/onnx/map_ops.hpp"
#include "frontends/onnx/onnx_model.hpp"
#include "graph/error.hpp"
#include "runtime/checkpoint.hpp"

namespace kiln::onnx {

Loss parse_loss(std::string_view text) {
  if (text == "softmax_cross_entropy") return Loss::softmax_cross_entropy;
  if (text == "mean_square") return Loss::mean_square;
  if (text == "none") return Loss::none;
  throw Error("--loss '" + std::string(text) + "': expected softmax_cross_entropy, mean_square or none");
}

std::string_view loss_name(Loss loss) {
  switch (loss) {
    case Loss::softmax_cross_entropy: return "softmax_cross_entropy";
    case Loss::mean_square: return "mean_square";
    case Loss::none: return "none";
  }
  return "?";
}

bool is_onnx_path(const std::string& path) { return std::filesystem::path(path).extension() == ".onnx"; }

Graph import_onnx(const std::string& path, const ImportOptions& options) {
  if (options.batch && *options.batch < 1)
    throw Error("--batch " + std::to_string(*options.batch) + ": expected a positive integer");
  Model model = decode_onnx_file(path);
  order_nodes(model);
  Builder b;
  MapOptions map_options;
  map_options.batch = options.batch;
  map_options.params_file = options.params_file.empty()
                                ? std::filesystem::path(path).stem().string() + ".safetensors"
                                : options.params_file;
  std::vector<Value> outputs = map_graph(model, b, map_options);
  if (options.loss != Loss::none && outputs.size() != 1)
    throw Error(path + ": --loss " + std::string(loss_name(options.loss)) + " needs one graph output, the model has " +
                std::to_string(outputs.size()));
  if (!outputs.empty()) attach_loss(b, outputs.front(), options, path);
  return b.graph();
}

void save_imported_graph(const Graph& g, const std::string& graph_path) {
  namespace fs = std::filesystem;
  Checkpoint params;
  std::string params_file;
  for (NodeId id : g.ids()) {
    const Node& n = g[id];
    if (n.op != OpKind::param || n.attrs.init.kind != Init::Kind::file) continue;
    if (!params_file.empty() && n.attrs.init.path != params_file)
      throw Error(describe(g, id) + ": its values are in '" + n.attrs.init.path + "', the other params' in '" +
                  params_file + "'; an imported graph keeps them in one file");
    params_file = n.attrs.init.path;
    if (!n.attrs.init.values) throw Error(describe(g, id) + ": its init names a file but holds no values to write");
    params.tensors.emplace(n.attrs.init.tensor, Tensor::from_values(n.shape, n.dtype, *n.attrs.init.values));
  }
  if (!params.tensors.empty()) {
    const fs::path folder = fs::path(graph_path).parent_path();
    save_checkpoint((folder / params_file).string(), params);
  }
  save_graph_file(g, graph_path);
}

}  // namespace kiln::onnx
