#include "passes/optimizer.hpp"

#include <cmath>

#include "graph/error.hpp"

namespace kiln {

std::string_view optimizer_name(OptimizerOptions::Kind kind) {
  switch (kind) {
    case OptimizerOptions::Kind::sgd: return "sgd";
    case OptimizerOptions::Kind::momentum: return "momentum";
    case OptimizerOptions::Kind::adam: return "adam";
  }
  return "?";
}

OptimizerOptions::Kind parse_optimizer(std::string_view name) {
  for (auto k : {OptimizerOptions::Kind::sgd, OptimizerOptions::Kind::momentum, OptimizerOptions::Kind::adam})
    if (optimizer_name(k) == name) return k;
  throw Error("unknown optimizer '" + std::string(name) + "': expected sgd, momentum or adam");
}

namespace {

void check(bool ok, const std::string& what) {
  if (!ok) throw Error("optimizer: " + what);
}

void check_options(const OptimizerOptions& o) {
  check(std::isfinite(o.lr) && o.lr > 0, "the learning rate must be a positive number, found " + std::to_string(o.lr));
  check(std::isfinite(o.weight_decay) && o.weight_decay >= 0,
        "the weight decay must be a non-negative number, found " + std::to_string(o.weight_decay));
  if (o.kind == OptimizerOptions::Kind::momentum)
    check(o.momentum >= 0 && o.momentum < 1, "momentum must be in [0, 1), found " + std::to_string(o.momentum));
  if (o.kind == OptimizerOptions::Kind::adam) {
    check(o.beta1 >= 0 && o.beta1 < 1, "beta1 must be in [0, 1), found " + std::to_string(o.beta1));
    check(o.beta2 >= 0 && o.beta2 < 1, "beta2 must be in [0, 1), found " + std::to_string(o.beta2));
    check(o.eps > 0, "eps must be positive, found " + std::to_string(o.eps));
  }
}

class UpdateBuilder {
 public:
  UpdateBuilder(Graph& g, const OptimizerOptions& o) : g_(g), o_(o) {}

  void update(NodeId p, NodeId grad) {
    const std::string name = g_[p].name;  // a copy: adding nodes moves the node storage
    switch (o_.kind) {
      case OptimizerOptions::Kind::sgd:
        op(OpKind::sgd_update, {p, grad}, "update/" + name, with_lr(with_decay(o_.weight_decay)));
        return;
      case OptimizerOptions::Kind::momentum: {
        Attrs a = with_decay(o_.weight_decay);
        a.momentum = o_.momentum;
        NodeId v = op(OpKind::momentum_update, {state(p, "velocity"), grad, p}, "update/" + name + "/velocity", a);
        op(OpKind::sgd_update, {p, v}, "update/" + name, with_lr(with_decay(0.0)));
        return;
      }
      case OptimizerOptions::Kind::adam: {
        Attrs a = with_decay(o_.weight_decay);
        a.beta1 = o_.beta1;
        a.beta2 = o_.beta2;
        NodeId m = op(OpKind::ema_update, {state(p, "m"), grad, p}, "update/" + name + "/m", a);
        NodeId v = op(OpKind::ema_square_update, {state(p, "v"), grad, p}, "update/" + name + "/v", a);
        Attrs s = with_lr(Attrs{});
        s.beta1 = o_.beta1;
        s.beta2 = o_.beta2;
        s.eps = o_.eps;
        op(OpKind::adam_update, {p, m, v, step(g_[p].dtype)}, "update/" + name, s);
        return;
      }
    }
  }

 private:
  Attrs with_lr(Attrs a) const {
    a.lr = o_.lr;
    return a;
  }
  static Attrs with_decay(double wd) {
    Attrs a;
    a.weight_decay = wd;
    return a;
  }

  NodeId op(OpKind kind, const std::vector<NodeId>& inputs, const std::string& name, Attrs attrs) {
    return g_.add(kind, inputs, std::move(attrs), g_.unique_name(name), Role::update);
  }

  NodeId state(NodeId p, const std::string& what) {
    Attrs a;
    a.init = Init::zeros();
    return g_.add_explicit(OpKind::param, {}, g_[p].shape, g_[p].dtype, a,
                           g_.unique_name("opt/" + g_[p].name + "/" + what), Role::update);
  }

  // One counter shared by every Adam update, incremented once per step
  // before the updates read it (so the first step uses t = 1).
  NodeId step(DType dtype) {
    if (!step_) {
      Attrs a;
      a.init = Init::zeros();
      NodeId t = g_.add_explicit(OpKind::param, {}, Shape{}, dtype, a, g_.unique_name("opt/step"), Role::update);
      step_ = op(OpKind::step_count, {t}, "update/step", Attrs{});
    }
    return *step_;
  }

  Graph& g_;
  const OptimizerOptions& o_;
  std::optional<NodeId> step_;
};

}  // namespace

Graph append_optimizer(const Graph& input, const OptimizerOptions& options) {
  check_options(options);
  Graph g = input;
  std::vector<std::pair<NodeId, NodeId>> targets;
  for (auto [of, grad] : g.gradients())
    if (g[of].op == OpKind::param) targets.emplace_back(of, grad);
  check(!targets.empty(), "the graph has no param gradients to apply (run autodiff first)");
  UpdateBuilder builder(g, options);
  for (auto [p, grad] : targets) builder.update(p, grad);
  return g;
}

}  // namespace kiln
