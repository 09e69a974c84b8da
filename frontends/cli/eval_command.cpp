// kiln eval [MODEL] --load CKPT [--data SPEC]: accuracy, mean loss and the
// confusion matrix of a trained checkpoint, through a forward-only plan.
// The data and its preparation default to what the checkpoint's training run
// used (its metadata), so `kiln eval --load run.safetensors` scores the same
// test rows that run reported.
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "commands.hpp"
#include "frontends/data/load.hpp"
#include "frontends/train/train.hpp"
#include "graph/error.hpp"
#include "runtime/checkpoint.hpp"
#include "runtime/plan.hpp"
#include "runtime/threads.hpp"

namespace kiln::cli {
namespace {

struct EvalArgs {
  std::string model, load;
  std::optional<std::string> data, test, scale, hidden, split;
  std::optional<std::int64_t> val_split, batch;
  std::optional<std::uint64_t> seed;
  bool standardize = false, no_fuse = false;
  std::optional<int> threads;
};

std::string meta(const std::map<std::string, std::string>& m, const std::string& key, const std::string& fallback = "") {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

std::int64_t meta_count(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
  const std::string text = meta(m, key, "0");
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 0)
    throw Error("checkpoint '" + path + "': metadata '" + key + "' is '" + text + "', expected a count");
  return v;
}

void run_eval(const EvalArgs& args) {
  const Checkpoint checkpoint = read_checkpoint(args.load);
  const auto& m = checkpoint.metadata;
  const std::string model_name = args.model.empty() ? meta(m, "model") : args.model;
  if (model_name.empty())
    throw Error("checkpoint '" + args.load + "' does not say which model it holds; name it: kiln eval MODEL --load " +
                args.load);
  const train::ModelSource model = train::load_model(model_name, args.hidden.value_or(meta(m, "hidden")));

  train::DataOptions data;
  data.spec = args.data.value_or(meta(m, "data", train::default_recipe(model.builtin ? model.name : "").data));
  data.test_spec = args.test.value_or(args.data ? "" : meta(m, "test"));
  data.val_split = args.val_split.value_or(args.data ? 0 : meta_count(m, "val_split", args.load));
  data.seed = args.seed.value_or(static_cast<std::uint64_t>(meta_count(m, "seed", args.load)));
  data.standardize = args.standardize || (!args.data && meta(m, "standardize") == "true");
  if (args.scale)
    data.scale = train::parse_scale(*args.scale);
  else if (!args.data && !meta(m, "scale").empty())
    data.scale = std::strtod(meta(m, "scale").c_str(), nullptr);
  if (args.threads) set_threads(*args.threads);
  const train::PreparedData prepared = train::prepare_data(data);

  const std::string split = args.split.value_or(prepared.test ? "test" : "train");
  const data::Dataset* rows = nullptr;
  if (split == "train") rows = &prepared.train;
  else if (split == "val") rows = prepared.val ? &*prepared.val : nullptr;
  else if (split == "test") rows = prepared.test ? &*prepared.test : nullptr;
  else throw Error("--split '" + split + "': expected train, val or test");
  if (!rows)
    throw Error("--split " + split + ": dataset '" + data.spec + "' has no " + split + " rows" +
                (split == "val" ? " (hold some out with --val-split N)" : " (name one with --test SPEC)"));

  auto params = std::make_shared<ParamStore>();
  params->initialise(model.graph, 0);
  train::load_params_only(checkpoint, args.load, *params);
  train::Evaluator evaluator(model.graph, params, args.batch.value_or(std::min<std::int64_t>(rows->rows, 1024)),
                             !args.no_fuse);
  const train::Metrics metrics = evaluator.evaluate(*rows);

  std::cout << "kiln eval: model " << model.name << ", checkpoint " << args.load;
  if (!meta(m, "epoch").empty()) std::cout << " (epoch " << meta(m, "epoch") << ", step " << meta(m, "step") << ")";
  std::cout << "\n  data     " << data.spec << ", " << split << " split: " << rows->rows << " rows\n"
            << "  scaling  " << prepared.scaling << "\n";
  char line[128];
  std::snprintf(line, sizeof line, "accuracy %.4f (%lld of %lld)\nmean loss %.6f\n", metrics.accuracy(),
                static_cast<long long>(metrics.correct()), static_cast<long long>(metrics.rows()), metrics.mean_loss());
  std::cout << line << "confusion matrix (rows: true class, columns: predicted):\n" << metrics.confusion_table();
}

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Score a trained checkpoint: accuracy, mean loss, confusion matrix");
  cmd->add_option("MODEL", args->model, "the model it was trained as (default: the checkpoint's)")->type_name("MODEL");
  cmd->add_option("--load", args->load, "checkpoint written by kiln train --save")->required()->type_name("CKPT");
  cmd->add_option("--data", args->data,
                  std::string("dataset (default: the checkpoint's, prepared as in training):\n") + data::kDatasetSpecHelp)
      ->type_name("SPEC");
  cmd->add_option("--test", args->test, "test rows from another dataset spec")->type_name("SPEC");
  cmd->add_option("--split", args->split, "which rows to score: train, val or test (default: test when present)")
      ->type_name("NAME");
  cmd->add_option("--val-split", args->val_split, "hold out the last N training rows as validation")->type_name("N");
  cmd->add_option("--scale", args->scale, "multiply every feature, e.g. 1/255")->type_name("FACTOR");
  cmd->add_flag("--standardize", args->standardize, "standardise features (mean/std of the training rows)");
  cmd->add_option("--hidden", args->hidden, "hidden layer sizes of a built-in model")->type_name("N,N");
  cmd->add_option("--seed", args->seed, "seed of the data split (default: the checkpoint's)");
  cmd->add_option("--batch", args->batch, "rows per forward pass (any size; the last batch may be partial)")
      ->type_name("N");
  cmd->add_flag("--no-fuse", args->no_fuse, "compile without fusion");
  cmd->add_option("--threads", args->threads, "threads for the GEMMs")->type_name("N");
  cmd->footer(
      "Example:\n"
      "  kiln train --save digits.safetensors && kiln eval logreg --load digits.safetensors");
  cmd->callback([args] { run_eval(*args); });
}

const bool registered = register_command(50, add_eval_command);

}  // namespace
}  // namespace kiln::cli
