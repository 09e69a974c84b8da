#include "frontends/train/recipes.hpp"

namespace kiln::train {

Recipe default_recipe(std::string_view model) {
  Recipe r;
  r.optimizer.kind = OptimizerOptions::Kind::sgd;
  if (model == "logreg") {
    r.data = "digits";
    r.epochs = 301;
    r.optimizer.lr = 0.01;
    r.reproduces = "logistic regression on digits: W, b zero, full-batch gradient descent, lr 0.01, 301 epochs";
  } else if (model == "mlp") {
    r.data = "fashion-mnist";
    r.epochs = 25;
    r.batch = 32;
    r.optimizer.lr = 0.1;
    r.scale = 1.0 / 255.0;
    r.val_split = 10000;
    r.reproduces = "784-100-200-10 MLP on Fashion-MNIST: SGD lr 0.1, batch 32, last 10000 rows as validation";
  } else if (model == "spiral-net") {
    r.data = "spiral";
    r.epochs = 10000;
    r.optimizer.lr = 1.0;
    r.reproduces = "cs231n spiral: 2-100-3 ReLU, L2 1e-3, lr 1.0, 10000 full-batch steps";
  } else if (model == "moons-net") {
    r.data = "moons";
    r.epochs = 1000;
    r.optimizer.kind = OptimizerOptions::Kind::momentum;
    r.optimizer.momentum = 0.99;
    r.optimizer.lr = 0.01;
    r.reproduces = "two moons: 2-264-2-2 ReLU, SGD momentum 0.99, lr 0.01, 1000 full-batch steps";
  } else {
    r.data = "digits";
    r.epochs = 10;
    r.batch = std::nullopt;
    r.optimizer.lr = 0.01;
    r.reproduces = "a graph file: digits, 10 epochs at the graph's batch size, SGD lr 0.01";
  }
  return r;
}

std::string_view recipe_model_for_data(std::string_view data) {
  const std::string_view name = data.substr(0, data.find(':'));  // "fashion-mnist:DIR" is Fashion-MNIST too
  for (std::string_view model : {"logreg", "mlp", "spiral-net", "moons-net"})
    if (default_recipe(model).data == name) return model;
  return {};
}

}  // namespace kiln::train
