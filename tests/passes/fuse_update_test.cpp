// Update fusion: sgd_update(P, matmul(A, B)) becomes one sgd_matmul_update
// whose GEMM accumulates into P. Where it fires on the seed models, where it
// must not, the gradient bookkeeping, and the schedule it leaves.
#include <catch2/catch.hpp>

#include <algorithm>

#include "frontends/builder.hpp"
#include "frontends/models.hpp"
#include "graph/verify.hpp"
#include "passes/fuse_update.hpp"
#include "passes/optimizer.hpp"
#include "passes/pipeline.hpp"
#include "passes/schedule.hpp"

using namespace kiln;

namespace {

Graph training_graph(const std::string& model, OptimizerOptions::Kind kind = OptimizerOptions::Kind::sgd,
                     double model_weight_decay = -1, const std::vector<std::string>& outputs = {}) {
  ModelOptions mo;
  mo.batch = 16;
  mo.weight_decay = model_weight_decay;
  CompileOptions co;
  co.outputs = outputs;
  OptimizerOptions o;
  o.kind = kind;
  o.lr = 0.05;
  o.weight_decay = 1e-3;
  return append_optimizer(run_pipeline(build_model(model, mo), co).graph, o);
}

Graph fused(const Graph& g, PassStats& stats, const std::vector<std::string>& keep = {}) {
  Graph out = fuse_update(g, stats, PassOptions{keep});
  verify(out);
  return out;
}

std::vector<std::string> folded_params(const Graph& g) {
  std::vector<std::string> out;
  for (NodeId v : g.ids())
    if (g[v].op == OpKind::sgd_matmul_update) out.push_back(g[g.inputs(v)[0]].name);
  std::sort(out.begin(), out.end());
  return out;
}

bool has_gradient(const Graph& g, const std::string& of) { return g.gradient_of(g.at(of)).has_value(); }

}  // namespace

TEST_CASE("fuse_update folds every dense weight's gradient GEMM into its SGD update", "[fuse_update]") {
  struct Case {
    std::string model;
    double model_weight_decay;
    std::vector<std::string> weights;
  };
  const std::vector<Case> cases = {
      {"logreg", -1, {"fc1/W"}},
      {"mlp", -1, {"fc1/W", "fc2/W", "fc3/W"}},
      {"spiral-net", 0.0, {"fc1/W", "fc2/W"}},
      {"moons-net", -1, {"fc1/W", "fc2/W", "fc3/W"}},
  };
  for (const Case& c : cases) {
    INFO(c.model);
    Graph g = training_graph(c.model, OptimizerOptions::Kind::sgd, c.model_weight_decay);
    PassStats stats;
    Graph out = fused(g, stats);
    CHECK(stats.count_of("sgd_matmul_update") == static_cast<int>(c.weights.size()));
    CHECK(folded_params(out) == c.weights);
    CHECK(stats.nodes_after == stats.nodes_before - c.weights.size());  // one matmul fewer per fold
    for (const std::string& w : c.weights) {
      const Node& update = out[out.at("update/" + w)];
      CHECK(update.role == Role::update);
      CHECK(update.attrs.lr == 0.05);
      CHECK(update.attrs.weight_decay == 1e-3);
      // The product was grad/W = xᵀ·dy: transpose_a carried over.
      CHECK(update.attrs.transpose_a);
      CHECK_FALSE(update.attrs.transpose_b);
      CHECK_FALSE(out.find("grad/" + w));
      CHECK_FALSE(has_gradient(out, w));  // never materialised, so no longer a gradient
      CHECK(has_gradient(out, w.substr(0, w.size() - 1) + "b"));  // the bias keeps sgd_update
    }
    CHECK(out.loss().has_value());
  }
}

TEST_CASE("fuse_update: the fused update still runs after every other reader of its param and the loss",
          "[fuse_update]") {
  Graph out;
  {
    PassStats stats;
    out = fused(training_graph("mlp"), stats);
  }
  const std::vector<NodeId> order = schedule(out);
  verify_schedule(out, order);
  auto position = [&](NodeId v) { return std::find(order.begin(), order.end(), v) - order.begin(); };
  int checked = 0;
  for (NodeId v : out.ids()) {
    if (out[v].op != OpKind::sgd_matmul_update) continue;
    const NodeId w = out.inputs(v)[0];
    CHECK(position(v) > position(*out.loss()));
    for (NodeId reader : out.consumers(w))
      if (reader != v) {
        CHECK(position(reader) < position(v));  // e.g. dx = dy·Wᵀ needs the old W
        ++checked;
      }
  }
  CHECK(checked >= 5);  // three forward products and the input gradients of fc2 and fc3
}

TEST_CASE("fuse_update leaves momentum and Adam alone", "[fuse_update]") {
  for (auto kind : {OptimizerOptions::Kind::momentum, OptimizerOptions::Kind::adam}) {
    INFO(optimizer_name(kind));
    Graph g = training_graph("mlp", kind);
    PassStats stats;
    Graph out = fused(g, stats);
    CHECK(stats.fired.empty());
    CHECK(out.size() == g.size());
    CHECK(out.gradients().size() == g.gradients().size());
  }
}

TEST_CASE("fuse_update keeps a gradient the caller reads", "[fuse_update]") {
  Graph g = training_graph("mlp", OptimizerOptions::Kind::sgd, -1, {"grad/fc2/W"});
  PassStats stats;
  Graph out = fused(g, stats, {"grad/fc2/W"});
  CHECK(stats.count_of("sgd_matmul_update") == 2);
  CHECK(folded_params(out) == std::vector<std::string>{"fc1/W", "fc3/W"});
  CHECK(out[out.at("update/fc2/W")].op == OpKind::sgd_update);
  CHECK(out.gradient_of(out.at("fc2/W")) == out.find("grad/fc2/W"));
}

TEST_CASE("fuse_update: a weight decay term in the loss joins the update's weight decay", "[fuse_update]") {
  // spiral-net's default loss adds λ·Σ l2(W), λ = 1e-3: grad/W = add_n(xᵀ·dy, scale(W, λ)).
  Graph g = training_graph("spiral-net");
  REQUIRE(g[g.at("grad/fc1/W")].op == OpKind::add_n);
  PassStats stats;
  Graph out = fused(g, stats);
  CHECK(stats.count_of("sgd_matmul_update") == 2);
  CHECK(folded_params(out) == std::vector<std::string>{"fc1/W", "fc2/W"});
  for (const char* w : {"fc1/W", "fc2/W"}) {
    INFO(w);
    // The optimizer's 1e-3 plus the loss term's λ (an f32 attribute, so not exactly 1e-3).
    CHECK(out[out.at(std::string("update/") + w)].attrs.weight_decay == Approx(2e-3).epsilon(1e-6));
    CHECK_FALSE(has_gradient(out, w));
  }
  CHECK(stats.nodes_after == stats.nodes_before - 6);  // per weight: the sum, its product and its penalty
  // Kept by name, the penalty term stops the fold (it must survive as it is).
  PassStats kept_stats;
  fused(g, kept_stats, {"grad/fc1/W/from/fc1/W/l2"});
  CHECK(kept_stats.count_of("sgd_matmul_update") == 1);
}

namespace {

// W [3, 3], x [3, 3] and a hand-built sgd_update(W, product): the product
// reads W or only x, and the loss sums the product (a second reader) or x.
struct HandBuiltUpdate {
  bool product_reads_param = false;
  bool loss_reads_product = false;
  Graph graph() const {
    Attrs sgd;
    sgd.lr = 0.1;
    Builder b;
    auto w = b.param("W", {3, 3});
    auto x = b.input("x", {3, 3});
    auto product = b.op(OpKind::matmul, {product_reads_param ? w : x, x}, {}, "product");
    b.set_loss(sum(loss_reads_product ? product : x, std::nullopt, "loss"));
    b.graph().add(OpKind::sgd_update, {w.id(), product.id()}, sgd, "update/W", Role::update);
    return b.graph();
  }
};

}  // namespace

TEST_CASE("fuse_update does not fold a product that reads its param or is read elsewhere",
          "[fuse_update]") {
  SECTION("the product reads the param it would overwrite") {
    PassStats stats;
    fused(HandBuiltUpdate{.product_reads_param = true}.graph(), stats);
    CHECK(stats.fired.empty());
  }
  SECTION("the product has another reader") {
    PassStats stats;
    fused(HandBuiltUpdate{.loss_reads_product = true}.graph(), stats);
    CHECK(stats.fired.empty());
  }
  SECTION("a product nobody observes, in a hand-built update, is folded") {
    PassStats stats;
    Graph out = fused(HandBuiltUpdate{}.graph(), stats);
    CHECK(stats.count_of("sgd_matmul_update") == 1);
    CHECK_FALSE(out.find("product"));
  }
}

TEST_CASE("fuse_update leaves a product of two params unfolded so that the updates can be ordered",
          "[fuse_update]") {
  // W = U·V (a low-rank layer): U's gradient dW·Vᵀ reads V and V's gradient
  // Uᵀ·dW reads U. Folded, each update would have to run before the other.
  Builder b;
  auto x = b.input("x", {16, 8});
  auto y = b.labels("y", 16, 3);
  auto u = b.param("U", {8, 4}, Init::normal(0.1));
  auto v = b.param("V", {4, 3}, Init::normal(0.1));
  auto w = matmul(u, v, false, false, "W");
  b.set_loss(softmax_cross_entropy(matmul(x, w, false, false, "logits"), y, "loss"));
  OptimizerOptions o;
  o.lr = 0.1;
  Graph g = append_optimizer(run_pipeline(b.graph(), CompileOptions{}).graph, o);
  PassStats stats;
  Graph out = fused(g, stats);
  CHECK(folded_params(out).empty());
  const std::vector<NodeId> order = schedule(out);
  verify_schedule(out, order);
}
