// The two-output loss through the whole pipeline: fuse_backward merges each
// seed model's softmax_cross_entropy and its gradient into one
// softmax_cross_entropy_with_grad node, and the fused plan must compute what
// the unfused one (--no-fuse) does, its get_output buffer planned like any
// other.
#include <catch2/catch.hpp>

#include <string>

#include "frontends/models.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "passes/pipeline.hpp"
#include "plan_support.hpp"
#include "runtime/executor.hpp"
#include "runtime/plan.hpp"

namespace {

using kiln::test::check_agrees;
using kiln::test::plan_tolerance;

constexpr std::uint64_t kSeed = 11;

int count_op(const kiln::Graph& g, kiln::OpKind op) {
  int n = 0;
  for (kiln::NodeId v : g.ids()) n += g[v].op == op;
  return n;
}

kiln::Plan compile_model(const kiln::Graph& g, bool fuse) {
  kiln::PlanOptions options;
  options.compile.fuse = fuse;
  options.compile.verify_each_pass = true;
  options.seed = kSeed;
  return kiln::compile(g, options);
}

}  // namespace

TEST_CASE("multi-output: fused and unfused plans agree on every seed model", "[plan][multi_output]") {
  for (const std::string& model : kiln::model_names())
    for (kiln::DType dtype : {kiln::DType::f32, kiln::DType::f64}) {
      INFO(model << " " << kiln::dtype_name(dtype));
      kiln::ModelOptions mo;
      mo.dtype = dtype;
      kiln::Graph g = kiln::build_model(model, mo);
      kiln::Plan fused = compile_model(g, true);
      kiln::Plan unfused = compile_model(g, false);
      CHECK(count_op(fused.graph(), kiln::OpKind::softmax_cross_entropy_with_grad) == 1);
      CHECK(count_op(fused.graph(), kiln::OpKind::get_output) == 1);
      CHECK(count_op(fused.graph(), kiln::OpKind::softmax_cross_entropy_grad) == 0);
      CHECK(count_op(unfused.graph(), kiln::OpKind::softmax_cross_entropy_with_grad) == 0);
      CHECK(count_op(unfused.graph(), kiln::OpKind::softmax_cross_entropy_grad) == 1);
      // The fused node is the cross-entropy, under its name (the loss itself
      // unless the model adds weight decay to it).
      const kiln::Graph& fg = fused.graph();
      CHECK(fg[fg.at(fg.find("data_loss") ? "data_loss" : "loss")].op ==
            kiln::OpKind::softmax_cross_entropy_with_grad);

      kiln::test::Feeds feeds = kiln::test::random_feeds(g, 3, -2, 2);
      const double tol = plan_tolerance(dtype);
      check_agrees({fused.step(feeds)}, {unfused.step(feeds)}, tol, "loss");
      for (const std::string& name : fused.params().names())
        check_agrees(fused.gradient(name).values(), unfused.gradient(name).values(), tol, "gradient of " + name);
    }
}

TEST_CASE("multi-output: the reference executor runs the fused graph as autodiff's", "[executor][multi_output]") {
  for (const std::string& model : kiln::model_names()) {
    INFO(model);
    kiln::ModelOptions mo;
    mo.dtype = kiln::DType::f64;
    kiln::Graph g = kiln::build_model(model, mo);
    kiln::CompileOptions co;
    co.simplify = false;
    kiln::CompiledGraph fused = kiln::run_pipeline(g, co);
    REQUIRE(count_op(fused.graph, kiln::OpKind::softmax_cross_entropy_with_grad) == 1);
    kiln::Graph plain = kiln::autodiff(g);
    kiln::Executor a(fused.graph, kSeed), b(plain, kSeed);
    kiln::test::Feeds feeds = kiln::test::random_feeds(g, 5);
    check_agrees({a.step(feeds)}, {b.step(feeds)}, 1e-12, "loss");
    for (const auto& [of, grad] : plain.gradients()) {
      const std::string& name = plain[of].name;
      check_agrees(a.value(*fused.graph.gradient_of(fused.graph.at(name))).values(), b.value(grad).values(), 1e-12,
                   "gradient of " + name);
    }
  }
}

TEST_CASE("multi-output: the gradient's buffer is planned from the fused node's step", "[plan][multi_output]") {
  kiln::PlanOptions options;
  options.optimizer = kiln::OptimizerOptions{};
  options.compile.verify_each_pass = true;
  kiln::Plan plan = kiln::compile(kiln::build_model("logreg"), options);
  const kiln::Graph& g = plan.graph();
  kiln::NodeId loss = *g.loss();
  REQUIRE(g[loss].op == kiln::OpKind::softmax_cross_entropy_with_grad);
  std::optional<kiln::NodeId> dz = g.projection(loss, 1);
  REQUIRE(dz);
  kiln::NodeId logits = g.inputs(loss)[0];
  int loss_step = -1;
  for (std::size_t i = 0; i < plan.order().size(); ++i)
    if (plan.order()[i] == loss) loss_step = static_cast<int>(i);
  const kiln::BufferPlan& b = plan.memory().buffer(*dz);
  const kiln::BufferPlan& z = plan.memory().buffer(logits);
  CHECK(b.first == loss_step);
  CHECK(b.bytes >= static_cast<std::size_t>(g[logits].shape.numel()) * 4);
  // The logits are read at that step while the gradient is written: disjoint bytes.
  CHECK(z.last >= loss_step);
  CHECK((b.offset + b.bytes <= z.offset || z.offset + z.bytes <= b.offset));

  kiln::test::Feeds feeds = kiln::test::random_feeds(plan.graph(), 9);
  const double unchecked = plan.step(feeds);
  CHECK(std::isfinite(unchecked));
  // The numerics check looks at the gradient's buffer too, and finds it finite.
  plan.set_check_numerics(true);
  CHECK(std::isfinite(plan.step(feeds)));
}
