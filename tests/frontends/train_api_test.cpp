// The building blocks of the C++ training API, each against a reference
// computed independently (by hand, or by another route through kiln).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "frontends/builder.hpp"
#include "frontends/data/data.hpp"
#include "frontends/json.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "frontends/train/train.hpp"
#include "graph/error.hpp"
#include "runtime/plan.hpp"

namespace {

using namespace kiln;

data::Dataset tiny_dataset(std::int64_t rows, std::int64_t features, std::int64_t classes) {
  data::Dataset d;
  d.name = "tiny";
  d.rows = rows;
  d.features = features;
  d.classes = classes;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t f = 0; f < features; ++f) d.x.push_back(static_cast<float>(r * 100 + f));
    d.y.push_back(static_cast<std::int32_t>(r % classes));
  }
  return d;
}

}  // namespace

TEST_CASE("metrics: accuracy loss and confusion from logits", "[train]") {
  train::Metrics m(3);
  const float logits[] = {2, 1, 0,  // predicts 0, label 0
                          0, 0, 5,  // predicts 2, label 1
                          1, 1, 0}; // tie: predicts 0 (the first), label 1
  const std::int32_t labels[] = {0, 1, 1};
  m.add(logits, labels, 3);
  CHECK(m.rows() == 3);
  CHECK(m.accuracy() == Approx(1.0 / 3));
  auto xent = [](double a, double b, double c, double label) { return std::log(std::exp(a) + std::exp(b) + std::exp(c)) - label; };
  CHECK(m.mean_loss() == Approx((xent(2, 1, 0, 2) + xent(0, 0, 5, 0) + xent(1, 1, 0, 1)) / 3));
  CHECK(m.confusion(0, 0) == 1);
  CHECK(m.confusion(1, 2) == 1);
  CHECK(m.confusion(1, 0) == 1);
  CHECK(m.confusion(2, 2) == 0);
  CHECK(m.confusion_table().find("true\\pred") == 0);
  const std::int32_t bad[] = {3};
  CHECK_THROWS_WITH(m.add(logits, bad, 1), Catch::Contains("label 3 is outside"));
}

TEST_CASE("batches: an epoch's order depends only on seed and epoch", "[train]") {
  const data::Dataset d = tiny_dataset(10, 2, 2);
  Builder g;
  g.set_loss(softmax_cross_entropy(dense(g, g.input("x", {3, 2}), 2, "fc1"), g.labels("y", 3, 2), "loss"));
  const train::ClassifierNodes nodes = train::find_classifier_nodes(g.graph(), "tiny");
  Plan a = compile(g.graph(), PlanOptions{.optimizer = OptimizerOptions{}});
  Plan b = compile(g.graph(), PlanOptions{.optimizer = OptimizerOptions{}});

  train::ShuffledBatches walked(d, nodes, true, 7), jumped(d, nodes, true, 7);
  CHECK(walked.count() == 3);  // 10 rows in batches of 3: the last row of each epoch is skipped
  for (std::int64_t e = 0; e < 3; ++e) walked.start_epoch(e);
  jumped.start_epoch(2);
  std::set<float> seen;
  for (std::int64_t i = 0; i < 3; ++i) {
    walked.fill(i, a);
    jumped.fill(i, b);
    const float* xa = a.input_buffer("x");
    const float* xb = b.input_buffer("x");
    CHECK(std::equal(xa, xa + 6, xb));
    CHECK(std::equal(a.labels_buffer("y"), a.labels_buffer("y") + 3, b.labels_buffer("y")));
    for (int r = 0; r < 3; ++r) {
      CHECK(xa[2 * r + 1] == xa[2 * r] + 1);  // rows stay whole
      seen.insert(xa[2 * r]);
    }
  }
  CHECK(seen.size() == 9);  // no row twice in an epoch

  train::ShuffledBatches in_order(d, nodes, false, 7);
  in_order.start_epoch(5);
  in_order.fill(1, a);
  CHECK(a.input_buffer("x")[0] == 300);
  CHECK(a.labels_buffer("y")[0] == 1);
}

TEST_CASE("evaluator: partial last batch gives what one batch of every row gives", "[train]") {
  const data::Split split = data::load_digits(3);
  const Graph model = build_model("logreg");
  auto params = std::make_shared<ParamStore>();
  params->initialise(build_model("logreg", {.batch = 1, .hidden = {}, .dtype = DType::f32, .weight_decay = -1}), 0);
  // Give the weights some non-trivial values (zero init would tie every class).
  Tensor& w = params->get("fc1/W");
  for (std::size_t i = 0; i < w.numel(); ++i) w.set(i, std::sin(0.37 * static_cast<double>(i)) * 0.1);

  train::Evaluator small(model, params, 128);  // 540 = 4 × 128 + 28
  train::Evaluator whole(model, params, 540);
  const train::Metrics a = small.evaluate(split.test), b = whole.evaluate(split.test);
  CHECK(a.rows() == 540);
  CHECK(a.correct() == b.correct());
  CHECK(a.mean_loss() == Approx(b.mean_loss()).epsilon(1e-6));
  for (int t = 0; t < 10; ++t)
    for (int p = 0; p < 10; ++p) CHECK(a.confusion(t, p) == b.confusion(t, p));
}

TEST_CASE("dataset checks name the mismatch: feature count and label range", "[train]") {
  const train::ClassifierNodes nodes = train::find_classifier_nodes(build_model("mlp"), "mlp");
  CHECK_THROWS_WITH(train::check_fits(data::digits(), nodes, "mlp"),
                    Catch::Contains("has 64 features per row, but model 'mlp' reads 784"));
  data::Dataset d = tiny_dataset(2, 784, 12);
  d.y[1] = 11;
  CHECK_THROWS_WITH(train::check_fits(d, nodes, "mlp"), Catch::Contains("row 1 has label 11"));
}

TEST_CASE("model graphs: classifier nodes of a graph file and rebatching with another init", "[train]") {
  Builder g;
  Value x = g.input("features", {4, 3});
  Value y = g.labels("classes", 4, 2);
  Value z = dense(g, x, 2, "out", Init::normal(1.0), Init::constant(0.5));
  g.set_loss(cross_entropy(softmax(z, std::nullopt, "probs"), y, "loss"));
  const Graph loaded = parse_graph_json(graph_to_json(g.graph()));
  const train::ClassifierNodes nodes = train::find_classifier_nodes(loaded, "g.json");
  CHECK(nodes.input == "features");
  CHECK(nodes.labels == "classes");
  CHECK(nodes.logits == g.graph()[z.id()].name);
  CHECK(nodes.classes == 2);

  const Graph edited = train::edit_graph(loaded, {.batch = 9, .init = Init::zeros(), .drop_loss = false});
  CHECK(edited[edited.at("features")].shape == Shape{9, 3});
  CHECK(edited[edited.at(nodes.logits)].shape == Shape{9, 2});
  Plan plan = compile(edited, PlanOptions{.optimizer = OptimizerOptions{}});
  for (const std::string& name : {"out/W", "out/b"})
    for (double v : plan.param(name).values()) CHECK(v == 0.0);
  CHECK_FALSE(train::edit_graph(loaded, {.batch = 9, .init = {}, .drop_loss = true}).loss());

  Builder no_loss;
  no_loss.input("x", {2, 2});
  CHECK_THROWS_WITH(train::find_classifier_nodes(no_loss.graph(), "n.json"), Catch::Contains("n.json: the graph has no 'loss'"));
}

TEST_CASE("init option: every form parses and prints back", "[train]") {
  for (const char* text : {"zeros", "he", "xavier", "normal:0.01", "uniform:-0.5,0.5", "constant:2"})
    CHECK(train::init_to_string(train::parse_init(text)) == text);
  CHECK(train::parse_init("normal:0.01").std == 0.01);
  CHECK_THROWS_WITH(train::parse_init("gaussian"), Catch::Contains("unknown initialiser"));
  CHECK_THROWS_WITH(train::parse_init("uniform:1,0"), Catch::Contains("LOW is above HIGH"));
  CHECK_THROWS_WITH(train::parse_init("normal:"), Catch::Contains("needs a number"));
}

TEST_CASE("scale option: fractions and decimals", "[train]") {
  CHECK(train::parse_scale("1/255") == 1.0 / 255);
  CHECK(train::parse_scale("0.0625") == 0.0625);
  CHECK_THROWS_WITH(train::parse_scale("0"), Catch::Contains("expected a positive factor"));
  CHECK_THROWS_WITH(train::parse_scale("1/0"), Catch::Contains("expected a positive factor"));
}

TEST_CASE("run log: CSV header and empty cells for absent splits", "[train]") {
  std::vector<train::EpochRecord> records(2);
  records[0] = {0, 2.302585, 0.5, std::nullopt, 0.25, 0.5};
  records[1] = {1, 1.5, 0.75, std::nullopt, 0.5, 1.25};
  CHECK(train::run_log_csv(records) ==
        "epoch,loss,train_accuracy,val_accuracy,test_accuracy,seconds\n"
        "0,2.302585,0.500000,,0.250000,0.500\n"
        "1,1.5,0.750000,,0.500000,1.250\n");
  const std::string svg = train::curves_svg(records, "a <title>");
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("a &lt;title&gt;") != std::string::npos);
  CHECK(std::count(svg.begin(), svg.end(), '\n') > 10);
  CHECK(svg.find("<polyline") != std::string::npos);

  train::RunSummary s;
  s.steps = 10;
  s.seconds = 2;
  s.test_accuracy = 0.5;
  const auto j = nlohmann::json::parse(train::summary_json(s));
  CHECK(j["steps_per_second"] == 5.0);
  CHECK(j["test_accuracy"] == 0.5);
  CHECK(j["val_accuracy"].is_null());
}

TEST_CASE("checkpoint state: the epoch loss sum survives exactly", "[train]") {
  const train::TrainingState s{3, 17, 1234, 0.1 + 0.2 + 1e-17};
  const auto metadata = train::state_metadata(s, {{"model", "logreg"}});
  CHECK(metadata.at("model") == "logreg");
  const train::TrainingState back = train::state_from_metadata(metadata, "c.safetensors");
  CHECK(back.epoch == 3);
  CHECK(back.batch_in_epoch == 17);
  CHECK(back.step == 1234);
  CHECK(back.epoch_loss_sum == s.epoch_loss_sum);
  CHECK_THROWS_WITH(train::state_from_metadata({}, "c.safetensors"),
                    Catch::Contains("checkpoint 'c.safetensors': metadata 'epoch' is missing"));
}

namespace {

// The digits classifier 64 → 10 with its input either [batch, 64] or
// [batch, 1, 8, 8] flattened by reshape [0, -1]; params named alike, so both
// draw the same initial values.
Graph digits_classifier(bool image_input, std::int64_t batch) {
  Builder g;
  Value x = image_input ? reshape(g.input("x", {batch, 1, 8, 8}), {0, -1}, "flat") : g.input("x", {batch, 64});
  Value y = g.labels("y", batch, 10);
  Value h = relu(dense(g, x, 16, "fc1", Init::he()));
  g.set_loss(softmax_cross_entropy(dense(g, h, 10, "fc2", Init::xavier()), y, "loss"));
  return g.graph();
}

}  // namespace

TEST_CASE("model graphs: an input of rank 4 takes a row of d1·…·dk features, and a mismatch names its shape",
          "[train][reshape]") {
  const train::ClassifierNodes nodes = train::find_classifier_nodes(digits_classifier(true, 32), "image.json");
  CHECK(nodes.input == "x");
  CHECK(nodes.batch == 32);
  CHECK(nodes.features == 64);
  CHECK(nodes.input_shape == Shape{32, 1, 8, 8});
  CHECK_NOTHROW(train::check_fits(data::digits(), nodes, "image.json"));
  CHECK_THROWS_WITH(train::check_fits(tiny_dataset(2, 63, 10), nodes, "image.json"),
                    Catch::Contains("dataset 'tiny' has 63 features per row, but model 'image.json' reads 64 "
                                    "(input 'x' [32, 1, 8, 8])"));

  Builder flat;
  Value v = flat.input("v", {4});
  flat.set_loss(softmax_cross_entropy(reshape(v, {1, 4}), flat.labels("y", 1, 4), "loss"));
  CHECK_THROWS_WITH(train::find_classifier_nodes(flat.graph(), "v.json"),
                    Catch::Contains("input 'v' must be [batch, features] or [batch, d1, ..., dk]") &&
                        Catch::Contains("found [4]"));
}

TEST_CASE("training a batch x 1 x 8 x 8 input through reshape 0,-1 equals training the batch x 64 input",
          "[train][reshape]") {
  const data::Split split = data::load_digits(3);
  std::vector<double> losses[2];
  std::optional<train::Metrics> scores[2];
  for (bool image : {false, true}) {
    // Built at batch 32, trained at 24: the reshape's 0 and -1 follow the edit.
    const Graph g = train::edit_graph(digits_classifier(image, 32), {.batch = 24, .init = {}, .drop_loss = false});
    const train::ClassifierNodes nodes = train::find_classifier_nodes(g, "model");
    REQUIRE(nodes.batch == 24);
    Plan plan = compile(g, PlanOptions{.optimizer = OptimizerOptions{.lr = 0.05}, .seed = 11});
    train::ShuffledBatches batches(split.train, nodes, /*shuffle=*/true, 5);
    for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
      batches.start_epoch(epoch);
      for (std::int64_t b = 0; b < batches.count(); ++b) {
        batches.fill(b, plan);
        losses[image].push_back(plan.step());
      }
    }
    train::Evaluator evaluator(g, plan.shared_params(), 100);
    scores[image] = evaluator.evaluate(split.test);
  }
  REQUIRE(losses[0].size() == losses[1].size());
  for (std::size_t s = 0; s < losses[0].size(); ++s) {
    INFO("step " << s);
    CHECK(losses[1][s] == losses[0][s]);
  }
  CHECK(losses[0].back() < 0.5 * losses[0].front());  // it learned something
  CHECK(scores[1]->correct() == scores[0]->correct());
  CHECK(scores[1]->mean_loss() == scores[0]->mean_loss());
}
