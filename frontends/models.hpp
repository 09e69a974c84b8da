#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.hpp"

// The built-in seed models, by name (the command line's --model). Each returns
// a forward graph with its loss set: inputs "x" [batch, features], labels "y"
// [batch] (class ids), dense layers "fc1", "fc2", ... (params "fcK/W",
// "fcK/b"), and a scalar "loss".
namespace kiln {

struct ModelOptions {
  std::int64_t batch = 0;             // 0: the model's default
  std::vector<std::int64_t> hidden;   // hidden layer sizes; empty: the model's default
  DType dtype = DType::f32;           // of the inputs and params (labels stay i32)
  double weight_decay = -1;           // λ of the loss term 0.5·λ·Σ‖W‖²; < 0: the model's default
};

// logreg      64→10 multinomial logistic regression on 8×8 digits; zero init; batch 1257
//             (the 70% training split of 1,797 digits); no hidden layers.
// mlp         784-100-200-10 ReLU MLP; weights N(0, 0.01²), zero biases; batch 32.
// spiral-net  2-100-3 ReLU net (cs231n spiral); weights 0.01·N(0, 1); batch 300;
//             weight decay λ = 1e-3.
// moons-net   2-264-2-2 ReLU net for two moons; He init; batch 1000.
// Weight decay defaults to 0 except for spiral-net; when positive the loss is
// softmax_cross_entropy + λ·Σ l2(W), built from `l2`, `add` and `scale` nodes.
Graph build_model(std::string_view name, const ModelOptions& options = {});

// The names build_model accepts, in the order above.
std::vector<std::string> model_names();

// Parses a list of hidden sizes such as "100,200" (the --hidden option);
// throws kiln::Error naming the offending entry.
std::vector<std::int64_t> parse_hidden_sizes(std::string_view text);

// A few lines describing a graph: node count, its params with their shapes,
// the total parameter count, and the loss.
std::string model_summary(const Graph& g);

// Total number of scalars in the graph's params.
std::int64_t parameter_count(const Graph& g);

}  // namespace kiln
