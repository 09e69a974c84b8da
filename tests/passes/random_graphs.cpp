#include "random_graphs.hpp"

#include <random>
#include <string>
#include <vector>

#include "frontends/builder.hpp"
#include "passes/autodiff.hpp"

namespace kiln::testing {
namespace {

// mt19937_64 is specified exactly, unlike the std distributions, so graphs
// are the same on every platform.
class Dice {
 public:
  explicit Dice(std::uint64_t seed) : rng_(seed) {}
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

 private:
  std::mt19937_64 rng_;
};

class Generator {
 public:
  explicit Generator(const RandomGraphOptions& o) : dice_(o.seed), options_(o) {}

  Graph run() {
    rows_ = dice_.pick(std::vector<std::int64_t>{1, 3, 8, 32, 100});
    int inputs = 1 + static_cast<int>(dice_.below(2));
    for (int i = 0; i < inputs; ++i) pool_.push_back(b_.input("x", Shape{rows_, dim()}));
    for (int i = 0; i < options_.ops; ++i) step();
    finish();
    Graph g = b_.graph();
    if (!options_.backward) return g;
    return with_backward(g);
  }

 private:
  std::int64_t dim() { return dice_.pick(std::vector<std::int64_t>{1, 2, 5, 16, 33, 64, 100}); }

  Value any() { return dice_.pick(pool_); }

  std::vector<Value> of_rank(std::size_t r) {
    std::vector<Value> out;
    for (const Value& v : pool_)
      if (v.shape().rank() == r) out.push_back(v);
    return out;
  }

  // An operand for `a` of a binary op: a value of the same shape, or a new
  // param of that shape, a bias-like trailing vector, or a scalar.
  Value partner(Value a, bool broadcast_ok) {
    std::vector<Value> same;
    for (const Value& v : pool_)
      if (v.shape() == a.shape()) same.push_back(v);
    std::size_t roll = dice_.below(10);
    if (roll < 5 && !same.empty()) return dice_.pick(same);
    if (roll < 7 || a.shape().rank() == 0) return b_.param("p", a.shape());
    if (roll < 9 && broadcast_ok) return b_.param("bias", Shape{a.shape().back()});
    return b_.scalar(1.5);
  }

  void step() {
    static const OpKind unary_ops[] = {OpKind::neg,  OpKind::scale, OpKind::relu, OpKind::sigmoid,
                                       OpKind::tanh, OpKind::exp,   OpKind::log,  OpKind::square};
    static const OpKind binary_ops[] = {OpKind::add, OpKind::sub, OpKind::mul, OpKind::div};
    std::size_t kind = dice_.below(20);
    if (kind < 7) {
      OpKind op = unary_ops[dice_.below(8)];
      Attrs a;
      if (op == OpKind::scale) a.factor = 0.5;
      push(b_.op(op, {any()}, a));
    } else if (kind < 12) {
      OpKind op = binary_ops[dice_.below(4)];
      Value a = any();
      push(b_.op(op, {a, partner(a, op != OpKind::div)}));
    } else if (kind < 16) {
      matmul_step();
    } else if (kind < 18) {
      std::vector<Value> m = of_rank(2);
      if (m.empty()) return;
      Attrs a;
      if (dice_.chance(70)) a.axis = static_cast<int>(dice_.below(2));
      push(b_.op(dice_.chance(50) ? OpKind::sum : OpKind::mean, {dice_.pick(m)}, a));
    } else if (kind < 19) {
      std::vector<Value> m = of_rank(2);
      if (m.empty()) return;
      push(b_.op(dice_.chance(50) ? OpKind::softmax : OpKind::log_softmax, {dice_.pick(m)}));
    } else {
      std::vector<Value> v = of_rank(1);
      if (v.size() >= 1 && dice_.chance(50)) {
        Value a = dice_.pick(v);
        std::vector<Value> same;
        for (const Value& u : v)
          if (u.shape() == a.shape()) same.push_back(u);
        push(dot(a, dice_.chance(50) ? dice_.pick(same) : b_.param("p", a.shape())));
      } else {
        push(l2(any()));
      }
    }
  }

  void matmul_step() {
    std::vector<Value> m = of_rank(2);
    if (m.empty()) return;
    Value a = dice_.pick(m);
    bool ta = dice_.chance(20);
    std::int64_t k = ta ? a.shape()[0] : a.shape()[1];
    // Another matrix of the pool with a matching inner dimension, else a new
    // weight.
    std::vector<std::pair<Value, bool>> fits;
    for (const Value& v : m) {
      if (v.shape()[0] == k) fits.emplace_back(v, false);
      if (v.shape()[1] == k) fits.emplace_back(v, true);
    }
    if (!fits.empty() && dice_.chance(40)) {
      auto [b, tb] = dice_.pick(fits);
      push(matmul(a, b, ta, tb));
      return;
    }
    Value w = b_.param("W", Shape{k, dim()});
    push(matmul(a, w, ta, false));
  }

  void push(Value v) { pool_.push_back(v); }

  void finish() {
    const Graph& g = b_.graph();
    std::vector<Value> terms;
    for (const Value& v : pool_) {
      if (!g.consumers(v.id()).empty() || v.node().info().is_leaf()) continue;
      if (dice_.chance(12)) continue;  // left dangling: the loss does not need it
      terms.push_back(v.shape().is_scalar() ? v : sum(v));
    }
    std::vector<Value> logits;
    for (const Value& v : pool_)
      if (v.shape().rank() == 2 && !v.node().info().is_leaf()) logits.push_back(v);
    if (!logits.empty() && (terms.empty() || dice_.chance(40))) {
      Value z = dice_.pick(logits);
      terms.push_back(softmax_cross_entropy(z, b_.labels("y", z.shape()[0], z.shape()[1])));
    }
    if (terms.empty()) terms.push_back(l2(pool_.front()));
    Value loss = terms[0];
    for (std::size_t i = 1; i < terms.size(); ++i) loss = add(loss, terms[i]);
    b_.set_loss(loss);
  }

  Graph with_backward(const Graph& g) {
    // Differentiate the params the loss reads (the others are dangling).
    std::vector<bool> reaches(g.size(), false);
    std::vector<NodeId> stack{*g.loss()};
    reaches[*g.loss()] = true;
    while (!stack.empty()) {
      NodeId v = stack.back();
      stack.pop_back();
      for (NodeId u : g.inputs(v))
        if (!reaches[u]) {
          reaches[u] = true;
          stack.push_back(u);
        }
    }
    AutodiffOptions ad;
    for (NodeId v : g.ids())
      if (reaches[v] && g[v].op == OpKind::param) ad.wrt.push_back(g[v].name);
    if (ad.wrt.empty()) return g;
    Graph out = autodiff(g, ad);
    if (options_.update) append_sgd_updates(out);
    return out;
  }

  Dice dice_;
  RandomGraphOptions options_;
  Builder b_;
  std::int64_t rows_ = 1;
  std::vector<Value> pool_;
};

}  // namespace

Graph random_graph(const RandomGraphOptions& options) { return Generator(options).run(); }

void append_sgd_updates(Graph& g, double learning_rate) {
  auto gradients = g.gradients();
  for (const auto& [param, grad] : gradients) {
    if (g[param].op != OpKind::param) continue;
    Attrs lr;
    lr.factor = learning_rate;
    std::string base = "update/" + g[param].name;
    NodeId step = g.add(OpKind::scale, {grad}, lr, g.unique_name(base + "/step"), Role::update);
    g.add(OpKind::sub, {param, step}, {}, g.unique_name(base), Role::update);
  }
}

}  // namespace kiln::testing
