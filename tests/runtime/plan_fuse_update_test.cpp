// The folded SGD update (sgd_matmul_update, passes/fuse_update.hpp) trains
// like the unfused plan: same params and losses over 10 steps in f32 and 50 in f64,
// with and without weight decay; its kernel against a double reference; and
// what a plan says about the gradient it no longer stores.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>

#include "frontends/models.hpp"
#include "harness.hpp"
#include "plan_support.hpp"
#include "runtime/kernels/kernel_list.hpp"
#include "runtime/plan.hpp"

namespace {

using kiln::test::check_agrees;

struct Trained {
  std::vector<double> losses;
  std::map<std::string, std::vector<double>> params;
  int folds = 0;
};

// `loss_decay`: λ of the models' own 0.5·λ·Σ‖W‖² loss term (< 0: the
// model's default), which folds into the update as weight decay too.
Trained train(const std::string& model, kiln::DType dtype, double weight_decay, bool fuse, int steps,
              double loss_decay = 0) {
  kiln::ModelOptions mo;
  mo.dtype = dtype;
  mo.batch = 32;
  mo.weight_decay = loss_decay;
  kiln::Graph g = kiln::build_model(model, mo);
  kiln::PlanOptions options;
  options.compile.fuse = fuse;
  options.compile.verify_each_pass = true;
  options.optimizer = kiln::OptimizerOptions{};
  options.optimizer->lr = 0.1;
  options.optimizer->weight_decay = weight_decay;
  options.seed = 3;
  kiln::Plan plan = kiln::compile(g, options);
  Trained t;
  for (const kiln::PassStats& s : plan.stats()) t.folds += s.count_of("sgd_matmul_update");
  for (int s = 0; s < steps; ++s)
    t.losses.push_back(plan.step(kiln::test::random_feeds(g, 200 + static_cast<std::uint64_t>(s % 5), -2, 2)));
  for (const std::string& name : plan.params().names()) t.params[name] = plan.param(name).values();
  return t;
}

// f64 over 50 steps shows the algebra is exact. In f32 the two plans round
// differently (alpha and beta fold lr and decay into the GEMM), and over many
// steps a ReLU that flips on one side only makes the trajectories part by
// more than rounding, sooner or later depending on the GEMM kernels a machine
// runs (with every GEMM forced to OpenBLAS, the MLP parted within 50 steps);
// 10 steps still compare every update, before that can happen.
int steps_for(kiln::DType dtype) { return dtype == kiln::DType::f32 ? 10 : 50; }
double tolerance_for(kiln::DType dtype) { return dtype == kiln::DType::f32 ? 1e-5 : 1e-11; }

}  // namespace

TEST_CASE("plan: SGD with the weight-gradient GEMM folded into the update trains as the unfused plan",
          "[plan][fuse_update]") {
  for (const std::string model : {"logreg", "mlp", "spiral-net"})
    for (kiln::DType dtype : {kiln::DType::f32, kiln::DType::f64})
      for (double weight_decay : {0.0, 1e-2}) {
        INFO(model << " " << kiln::dtype_name(dtype) << " weight decay " << weight_decay);
        const double tol = tolerance_for(dtype);
        const int steps = steps_for(dtype);
        const Trained folded = train(model, dtype, weight_decay, true, steps);
        const Trained unfused = train(model, dtype, weight_decay, false, steps);
        CHECK(folded.folds == (model == "mlp" ? 3 : model == "logreg" ? 1 : 2));
        CHECK(unfused.folds == 0);
        check_agrees(folded.losses, unfused.losses, tol, "losses");
        REQUIRE(folded.params.size() == unfused.params.size());
        for (const auto& [name, values] : unfused.params) check_agrees(folded.params.at(name), values, tol, name);
        CHECK(folded.losses[static_cast<std::size_t>(steps - 5)] < folded.losses[0]);  // batch 0 again: progress
      }
}

TEST_CASE("plan: spiral-net's weight decay term in the loss folds into the update and trains the same",
          "[plan][fuse_update]") {
  for (kiln::DType dtype : {kiln::DType::f32, kiln::DType::f64}) {
    INFO(kiln::dtype_name(dtype));
    const double tol = tolerance_for(dtype);
    const Trained folded = train("spiral-net", dtype, 0.0, true, steps_for(dtype), -1);
    const Trained unfused = train("spiral-net", dtype, 0.0, false, steps_for(dtype), -1);
    CHECK(folded.folds == 2);
    check_agrees(folded.losses, unfused.losses, tol, "losses");
    for (const auto& [name, values] : unfused.params) check_agrees(folded.params.at(name), values, tol, name);
  }
}

TEST_CASE("plan: a folded gradient is named when asked for, and kept when listed as an output",
          "[plan][fuse_update]") {
  kiln::ModelOptions mo;
  mo.batch = 8;
  kiln::Graph g = kiln::build_model("mlp", mo);
  kiln::PlanOptions options;
  options.optimizer = kiln::OptimizerOptions{};
  options.seed = 3;
  kiln::Plan folded = kiln::compile(g, options);
  const kiln::test::Feeds feeds = kiln::test::random_feeds(g, 4);
  folded.step(feeds);
  CHECK_THROWS_WITH(folded.gradient("fc1/W"), Catch::Contains("update/fc1/W") && Catch::Contains("grad/fc1/W") &&
                                                  Catch::Contains("CompileOptions::outputs"));

  // As the message says: listed as an output, the gradient survives (its
  // update stays an sgd_update) and holds what the unfused plan computes.
  options.compile.outputs = {"grad/fc1/W"};
  kiln::Plan keeping = kiln::compile(g, options);
  options.compile.fuse = false;
  kiln::Plan unfused = kiln::compile(g, options);
  keeping.step(feeds);
  unfused.step(feeds);
  CHECK(keeping.graph()[keeping.graph().at("update/fc1/W")].op == kiln::OpKind::sgd_update);
  CHECK(keeping.graph()[keeping.graph().at("update/fc2/W")].op == kiln::OpKind::sgd_matmul_update);
  check_agrees(keeping.gradient("fc1/W"), unfused.value("grad/fc1/W").to_tensor(), "kept gradient");
}

TEST_CASE("sgd_matmul_update: P = (1 - lr*wd)*P - lr*op(A)*op(B) for every transpose combination",
          "[runtime][kernels][fuse_update]") {
  std::mt19937 rng(7);
  for (kiln::DType dtype : {kiln::DType::f32, kiln::DType::f64})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO(kiln::dtype_name(dtype) << " transpose_a " << ta << " transpose_b " << tb);
        const std::int64_t m = 5, n = 3, k = 4;
        kiln::Tensor p = kiln::test::random_tensor(kiln::Shape{m, n}, dtype, rng);
        kiln::Tensor a = kiln::test::random_tensor(ta ? kiln::Shape{k, m} : kiln::Shape{m, k}, dtype, rng);
        kiln::Tensor b = kiln::test::random_tensor(tb ? kiln::Shape{n, k} : kiln::Shape{k, n}, dtype, rng);
        kiln::Attrs attrs;
        attrs.lr = 0.25;
        attrs.weight_decay = 0.5;
        attrs.transpose_a = ta;
        attrs.transpose_b = tb;
        std::vector<double> want(static_cast<std::size_t>(m * n));
        for (std::int64_t i = 0; i < m; ++i)
          for (std::int64_t j = 0; j < n; ++j) {
            double dot = 0;
            for (std::int64_t l = 0; l < k; ++l)
              dot += a.get(static_cast<std::size_t>(ta ? l * m + i : i * k + l)) *
                     b.get(static_cast<std::size_t>(tb ? j * k + l : l * n + j));
            const double old = p.get(static_cast<std::size_t>(i * n + j));
            want[static_cast<std::size_t>(i * n + j)] = old - 0.25 * (dot + 0.5 * old);
          }
        // Through the executor: the GEMM prepared on the chosen backend, in place.
        const double tol = kiln::test::tolerance(dtype);
        check_agrees(kiln::test::run_op(kiln::OpKind::sgd_matmul_update, {p, a, b}, attrs).values(), want, tol,
                     "prepared GEMM");
        // A call built by hand: CBLAS, and the new value in a buffer of its own.
        kiln::Tensor out(p.shape(), dtype);
        kiln::KernelCall c;
        const kiln::Tensor* operands[] = {&p, &a, &b};
        for (const kiln::Tensor* operand : operands) c.in.push_back({operand->raw(), &operand->shape(), dtype});
        c.out = out.raw();
        c.out_shape = &out.shape();
        c.dtype = dtype;
        c.attrs = &attrs;
        const std::vector<double> before = p.values();
        kiln::kernels::sgd_matmul_update(c);
        check_agrees(out.values(), want, tol, "CBLAS into another buffer");
        CHECK(p.values() == before);
      }
}
