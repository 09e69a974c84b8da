#pragma once
// The settings `kiln train MODEL` uses when an option is not given: for each
// built-in model, the settings of the classic example it reproduces.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "passes/optimizer.hpp"

namespace kiln::train {

struct Recipe {
  std::string data;                   // dataset spec
  std::int64_t epochs = 10;
  std::optional<std::int64_t> batch;  // absent: the whole training set ("full"); for a graph file, its own batch
  OptimizerOptions optimizer;
  std::optional<double> scale;
  std::int64_t val_split = 0;
  std::string reproduces;             // one line for --help
};

// logreg      digits, 301 epochs, full batch, SGD lr 0.01, unscaled
// mlp         fashion-mnist, 25 epochs, batch 32, SGD lr 0.1, scale 1/255, last 10000 rows as validation
// spiral-net  spiral, 10000 epochs (one full-batch step each), SGD lr 1.0
// moons-net   moons, 1000 epochs (one full-batch step each), momentum 0.99, lr 0.01
// anything else (a graph file): digits, 10 epochs, the graph's batch, SGD lr 0.01
Recipe default_recipe(std::string_view model);

// The built-in model whose recipe is the classic one for dataset spec `data`
// ("digits" -> "logreg", "fashion-mnist" -> "mlp", "spiral" -> "spiral-net",
// "moons" -> "moons-net"; "fashion-mnist:DIR" is Fashion-MNIST too), or ""
// for any other data. A graph file trained on
// one of these datasets takes that recipe, so an imported model trains as
// the classic example for its data does (batch, optimizer, scaling,
// hold-out), not at the generic settings.
std::string_view recipe_model_for_data(std::string_view data);

// The model `kiln train` trains with no MODEL argument.
inline constexpr std::string_view kDefaultModel = "logreg";

}  // namespace kiln::train
