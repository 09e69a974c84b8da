// Feeding, reading values, errors that name the node, shared parameter
// stores and the compile report of the Plan.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>

#include "frontends/builder.hpp"
#include "frontends/models.hpp"
#include "graph/error.hpp"
#include "plan_support.hpp"
#include "runtime/executor.hpp"
#include "runtime/plan.hpp"

using Catch::Matchers::Contains;

namespace {

kiln::Plan training_plan(const std::string& model, std::int64_t batch = 8, std::uint64_t seed = 3) {
  kiln::ModelOptions mo;
  mo.batch = batch;
  kiln::PlanOptions options;
  options.optimizer = kiln::OptimizerOptions{};
  options.seed = seed;
  return kiln::compile(kiln::build_model(model, mo), options);
}

}  // namespace

TEST_CASE("plan: feeds are checked and name the node", "[plan][api]") {
  kiln::Plan plan = training_plan("logreg");
  CHECK_THROWS_WITH(plan.feed("x", kiln::Tensor(kiln::Shape{8, 63}, kiln::DType::f32)),
                    Contains("'x'") && Contains("[8, 64]") && Contains("[8, 63]"));
  CHECK_THROWS_WITH(plan.feed("nope", kiln::Tensor()), Contains("'nope'"));
  kiln::Tensor bad_labels = kiln::Tensor::from_values(kiln::Shape{8}, kiln::DType::i32, {0, 1, 2, 3, 4, 5, 6, 10});
  CHECK_THROWS_WITH(plan.feed("y", bad_labels), Contains("'y'") && Contains("row 7") && Contains("10"));
  CHECK_THROWS_WITH(plan.feed("fc1/add", kiln::Tensor(kiln::Shape{8, 10}, kiln::DType::f32)),
                    Contains("fc1/add") || Contains("no node named"));
  CHECK_THROWS_WITH(plan.input_buffer<double>("x"), Contains("'x'") && Contains("f32"));
  CHECK_THROWS_WITH(plan.labels_buffer("x"), Contains("'x'") && Contains("labels"));
  CHECK_THROWS_WITH(plan.input_buffer("y"), Contains("'y'") && Contains("input"));
}

TEST_CASE("plan: step() names every input never fed, and labels out of range", "[plan][api]") {
  kiln::Plan plan = training_plan("mlp");
  CHECK_THROWS_WITH(plan.step(), Contains("not fed") && Contains("'x'") && Contains("'y'"));
  kiln::test::Feeds feeds = kiln::test::random_feeds(plan.graph(), 1);
  plan.feed("x", feeds[0].second);
  CHECK_THROWS_WITH(plan.step(), Contains("'y'") && !Contains("'x'"));
  std::int32_t* y = plan.labels_buffer("y");
  std::fill(y, y + 8, 1);
  y[5] = -3;
  CHECK_THROWS_WITH(plan.step(), Contains("'y'") && Contains("row 5") && Contains("-3"));
  const kiln::Tensor before = plan.param("fc1/W");
  y[5] = 9;
  plan.step();
  CHECK(plan.param("fc1/W").values() != before.values());  // the failed steps changed nothing; this one did
}

TEST_CASE("plan: writing through input_buffer is feeding, and fed values persist across steps", "[plan][api]") {
  kiln::Graph g = kiln::build_model("moons-net", kiln::ModelOptions{16, {}, kiln::DType::f64, -1});
  kiln::test::Feeds feeds = kiln::test::random_feeds(g, 4);
  kiln::PlanOptions options;
  options.compile.differentiate = false;
  kiln::Plan by_feed = kiln::compile(g, options);
  kiln::Plan by_pointer = kiln::compile(g, options);
  const double loss = by_feed.step(feeds);
  std::memcpy(by_pointer.input_buffer<double>("x"), feeds[0].second.raw(), feeds[0].second.bytes());
  std::memcpy(by_pointer.labels_buffer("y"), feeds[1].second.raw(), feeds[1].second.bytes());
  CHECK(by_pointer.step() == loss);
  CHECK(by_pointer.step() == loss);  // nothing re-fed: the same batch again
  CHECK(by_pointer.loss() == loss);
  CHECK(by_pointer.value("x").values() == feeds[0].second.values());
}

TEST_CASE("plan: value() reads what is live at the end and names what is not", "[plan][api]") {
  kiln::Plan plan = training_plan("mlp");
  for (const auto& [name, value] : kiln::test::random_feeds(plan.graph(), 2)) plan.feed(name, value);
  const double loss = plan.step();
  CHECK(plan.value("loss").get(0) == loss);
  // A gradient its update consumed early in the step has had its buffer reused.
  CHECK_THROWS_WITH(plan.gradient("fc2/W"), Contains("grad/fc2/W") && Contains("CompileOptions::outputs"));
  CHECK_THROWS_WITH(plan.value("fc1/relu"), Contains("'fc1/relu'") && Contains("CompileOptions::outputs"));
  CHECK_THROWS_WITH(plan.value("fc2/matmul"), Contains("fc2/matmul"));  // fused into an affine node
  CHECK_THROWS_WITH(plan.gradient("x"), Contains("'x'") && Contains("no gradient"));
  CHECK_THROWS_WITH(plan.value(kiln::NodeId{100000}), Contains("100000"));
  CHECK_THROWS_WITH(plan.value("loss").get(1), Contains("element 1"));
  CHECK_THROWS_WITH(plan.value("loss").as<double>(), Contains("f32"));
}

TEST_CASE("plan: an evaluation plan with another batch size shares the trained params", "[plan][api]") {
  kiln::ModelOptions train_options;
  train_options.batch = 8;
  kiln::Graph train_graph = kiln::build_model("spiral-net", train_options);
  kiln::PlanOptions options;
  options.optimizer = kiln::OptimizerOptions{};
  options.optimizer->lr = 0.5;
  options.seed = 17;
  kiln::Plan train = kiln::compile(train_graph, options);
  for (const auto& [name, value] : kiln::test::random_feeds(train_graph, 5)) train.feed(name, value);
  for (int s = 0; s < 5; ++s) train.step();

  kiln::ModelOptions eval_options;
  eval_options.batch = 50;
  kiln::Graph eval_graph = kiln::build_model("spiral-net", eval_options);
  kiln::PlanOptions eval_plan_options;
  eval_plan_options.compile.differentiate = false;
  eval_plan_options.compile.outputs = {"fc2/add"};
  eval_plan_options.seed = 999;  // ignored: every param is already in the store
  kiln::Plan eval = kiln::compile(eval_graph, eval_plan_options, train.shared_params());
  CHECK(&eval.params() == &train.params());

  kiln::test::Feeds eval_feeds = kiln::test::random_feeds(eval_graph, 6);
  kiln::Executor reference(eval_graph);
  for (const std::string& p : train.params().names())
    if (eval_graph.find(p)) reference.feed(p, train.param(p));
  const double reference_loss = reference.step(eval_feeds);
  kiln::test::check_agrees({eval.step(eval_feeds)}, {reference_loss}, 1e-5, "eval loss");
  kiln::test::check_agrees(eval.value("fc2/add"), reference.value("fc2/add"), "eval logits");

  // Training further moves the params the evaluation plan reads.
  const double eval_before = eval.step();
  train.step();
  CHECK(eval.step() != eval_before);

  // A store holding a param of another shape is refused, naming it.
  kiln::ModelOptions wider;
  wider.hidden = {50};
  CHECK_THROWS_WITH(kiln::compile(kiln::build_model("spiral-net", wider), eval_plan_options, train.shared_params()),
                    Contains("fc1/W") && Contains("[2, 100]") && Contains("[2, 50]"));
}

TEST_CASE("plan: constants are written once and a fed constant overrides its attribute", "[plan][api]") {
  kiln::Builder b;
  kiln::Value x = b.input("x", {4});
  kiln::Value c = b.constant("c", {4}, {1, 2, 3, 4});
  b.set_loss(kiln::sum(x * c, std::nullopt, "loss"));
  kiln::PlanOptions options;
  options.compile.differentiate = false;
  kiln::Plan plan = kiln::compile(b.graph(), options);
  kiln::Tensor ones = kiln::Tensor::from_values(kiln::Shape{4}, kiln::DType::f32, {1, 1, 1, 1});
  CHECK(plan.step({{"x", ones}}) == 10.0);
  CHECK(plan.step() == 10.0);
  plan.feed("c", kiln::Tensor::from_values(kiln::Shape{4}, kiln::DType::f32, {0, 0, 0, 5}));
  CHECK(plan.step() == 5.0);
  CHECK(plan.value("c").values() == std::vector<double>{0, 0, 0, 5});
}

TEST_CASE("plan: compile reports its passes and refuses what it cannot build", "[plan][api]") {
  kiln::Plan plan = training_plan("mlp");
  std::vector<std::string> passes;
  for (const kiln::PassStats& s : plan.stats()) passes.push_back(s.pass);
  for (const char* p : {"verify", "fuse_forward", "autodiff", "optimizer_update", "schedule", "memory_plan"})
    CHECK(std::find(passes.begin(), passes.end(), p) != passes.end());
  const kiln::PassStats& opt = *std::find_if(plan.stats().begin(), plan.stats().end(),
                                             [](const kiln::PassStats& s) { return s.pass == "optimizer_update"; });
  CHECK(opt.count_of("sgd") == 6);  // three layers, W and b each
  // One kernel call per scheduled non-leaf node (no add_n in the mlp is wider
  // than a kernel call), except get_output, whose buffer its source's call
  // writes.
  std::size_t ops = 0;
  for (kiln::NodeId id : plan.order())
    ops += !plan.graph()[id].info().is_leaf() && plan.graph()[id].op != kiln::OpKind::get_output;
  CHECK(plan.kernel_calls() == ops);

  kiln::PlanOptions no_grad;
  no_grad.compile.differentiate = false;
  no_grad.optimizer = kiln::OptimizerOptions{};
  CHECK_THROWS_WITH(kiln::compile(kiln::build_model("mlp"), no_grad), Contains("differentiate"));
  kiln::PlanOptions bad_output;
  bad_output.compile.outputs = {"fc9/relu"};
  CHECK_THROWS_WITH(kiln::compile(kiln::build_model("mlp"), bad_output), Contains("fc9/relu"));

  // A graph without a loss runs, and its outputs are read by name.
  kiln::Builder b;
  kiln::sum(b.input("x", {3}), std::nullopt, "total");
  kiln::PlanOptions forward;
  forward.compile.differentiate = false;
  forward.compile.outputs = {"total"};
  kiln::Plan no_loss = kiln::compile(b.graph(), forward);
  no_loss.feed("x", kiln::Tensor::from_values(kiln::Shape{3}, kiln::DType::f32, {1, 2, 3}));
  CHECK_THROWS_WITH(no_loss.step(), Contains("no loss") || Contains("has none"));
  no_loss.run();
  CHECK(no_loss.value("total").get(0) == 6.0);
}

TEST_CASE("plan: a plan moves without losing its bindings", "[plan][api]") {
  kiln::Plan a = training_plan("logreg");
  kiln::test::Feeds feeds = kiln::test::random_feeds(a.graph(), 8);
  kiln::Plan reference = training_plan("logreg");
  const double want = reference.step(feeds);
  kiln::Plan b = std::move(a);
  CHECK(b.step(feeds) == want);
}
