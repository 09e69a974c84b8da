// The seed models as forward graphs built with the builder API, for the
// fusion, simplify and pipeline tests: x [rows, features], labels y [rows],
// dense layers fc1, fc2, ... (matmul + add, as a user writes them), ReLU
// between them, softmax_cross_entropy on the last one.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"

namespace kiln::testing {

struct SeedModel {
  std::string name;
  std::int64_t rows, features, classes;
  std::vector<std::int64_t> hidden;
  double weight_decay;  // λ in loss = xent + λ·Σ l2(W); 0 for none
};

inline std::vector<SeedModel> seed_models() {
  return {
      {"mlp", 32, 784, 10, {100, 200}, 0.0},
      {"logreg", 64, 64, 10, {}, 0.0},
      {"spiral", 30, 2, 3, {100}, 1e-3},
      {"moons", 40, 2, 2, {264, 2}, 0.0},
  };
}

inline Graph build_seed(const SeedModel& m, DType dtype = DType::f32) {
  Builder g;
  Value x = g.input("x", {m.rows, m.features}, dtype);
  Value y = g.labels("y", m.rows, m.classes);
  Value h = x;
  std::vector<Value> weights;
  std::size_t layers = m.hidden.size() + 1;
  for (std::size_t i = 0; i < layers; ++i) {
    std::string name = "fc" + std::to_string(i + 1);
    std::int64_t units = i < m.hidden.size() ? m.hidden[i] : m.classes;
    h = dense(g, h, units, name, Init::normal(0.1));
    weights.push_back(Value(&g, g.graph().at(name + "/W")));
    if (i + 1 < layers) h = relu(h);
  }
  if (m.weight_decay > 0) {
    Value xent = softmax_cross_entropy(h, y, "xent");
    Value penalty = l2(weights[0]);
    for (std::size_t i = 1; i < weights.size(); ++i) penalty = add(penalty, l2(weights[i]));
    g.set_loss(add(xent, scale(penalty, m.weight_decay), "loss"));
  } else {
    g.set_loss(softmax_cross_entropy(h, y, "loss"));
  }
  return g.graph();
}

}  // namespace kiln::testing
