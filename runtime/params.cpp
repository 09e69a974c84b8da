#include "runtime/params.hpp"

#include <cmath>
#include <cstring>

#include "runtime/random.hpp"

namespace kiln {
namespace {

std::string param_label(std::string_view name) { return "param '" + std::string(name) + "'"; }

}  // namespace

Fans fans_of(const Shape& shape) {
  Fans f;
  if (shape.rank() == 0) return f;
  if (shape.rank() == 1) {
    f.in = f.out = static_cast<double>(shape[0]);
    return f;
  }
  f.out = static_cast<double>(shape.back());
  f.in = static_cast<double>(shape.numel()) / f.out;
  return f;
}

Tensor initial_value(const Node& param, std::uint64_t seed) {
  const Init& init = param.attrs.init;
  Tensor t(param.shape, param.dtype);
  RandomStream rng(mix_seeds(init.seed.value_or(seed), stable_hash(param.name)));
  const Fans fans = fans_of(param.shape);
  auto fill = [&](auto draw) {
    for (std::size_t i = 0; i < t.numel(); ++i) t.set(i, draw());
  };
  switch (init.kind) {
    case Init::Kind::zeros:
      break;
    case Init::Kind::constant:
      fill([&] { return init.value; });
      break;
    case Init::Kind::normal:
      if (!(init.std >= 0))
        throw Error(param_label(param.name) + ": init 'normal' expects std >= 0, found " + std::to_string(init.std));
      fill([&] { return rng.normal(init.mean, init.std); });
      break;
    case Init::Kind::uniform:
      if (!(init.low <= init.high))
        throw Error(param_label(param.name) + ": init 'uniform' expects low <= high, found low " +
                    std::to_string(init.low) + " and high " + std::to_string(init.high));
      fill([&] { return rng.uniform(init.low, init.high); });
      break;
    case Init::Kind::xavier: {
      const double limit = std::sqrt(6.0 / (fans.in + fans.out));
      fill([&] { return rng.uniform(-limit, limit); });
      break;
    }
    case Init::Kind::he: {
      const double std = std::sqrt(2.0 / fans.in);
      fill([&] { return rng.normal(0.0, std); });
      break;
    }
    case Init::Kind::file: {
      // The graph reader checked the values against the param; a graph built
      // in code is checked here.
      const std::size_t have = init.values ? init.values->size() : 0;
      if (have != t.numel())
        throw Error(param_label(param.name) + ": init 'file' ('" + init.path + "'" +
                    (init.tensor.empty() ? "" : ", tensor '" + init.tensor + "'") + ") holds " + std::to_string(have) +
                    " values, expected " + std::to_string(t.numel()) + " for shape " + param.shape.str());
      for (std::size_t i = 0; i < have; ++i) t.set(i, (*init.values)[i]);
      break;
    }
  }
  return t;
}

void ParamStore::initialise(const Graph& g, std::uint64_t seed) {
  for (NodeId id : g.ids()) {
    const Node& n = g[id];
    if (n.op != OpKind::param) continue;
    Tensor value = initial_value(n, seed);
    auto it = tensors_.find(n.name);
    if (it == tensors_.end()) tensors_.emplace(n.name, std::move(value));
    else set(n.name, value);
  }
}

Tensor& ParamStore::get(std::string_view name) {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error("no parameter named '" + std::string(name) + "'");
  return it->second;
}

const Tensor& ParamStore::get(std::string_view name) const { return const_cast<ParamStore*>(this)->get(name); }

void ParamStore::set(std::string_view name, const Tensor& value) {
  Tensor& t = get(name);
  if (t.shape() != value.shape() || t.dtype() != value.dtype())
    throw Error(param_label(name) + ": expected " + t.type_str() + ", found " + value.type_str());
  std::memcpy(t.raw(), value.raw(), t.bytes());
}

Tensor& ParamStore::add(std::string name, Shape shape, DType dtype) {
  if (contains(name)) throw Error("the parameter store already holds '" + name + "'");
  return tensors_.emplace(std::move(name), Tensor(std::move(shape), dtype)).first->second;
}

std::vector<std::string> ParamStore::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [name, t] : tensors_) out.push_back(name);
  return out;
}

}  // namespace kiln
