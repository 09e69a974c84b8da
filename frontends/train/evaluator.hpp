#pragma once
// Evaluation of a model's current params on a whole dataset, every row
// counted: forward-only plans (no autodiff, no loss, only the logits kept)
// that share the training plan's parameter store, one for full batches and
// one compiled for the last partial batch.
//
//   Evaluator eval(model, train_plan.shared_params(), 1000);
//   Metrics test = eval.evaluate(split.test);
//   std::cout << test.accuracy() << " " << test.mean_loss() << "\n";
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "frontends/data/dataset.hpp"
#include "frontends/train/metrics.hpp"
#include "frontends/train/model_graph.hpp"
#include "runtime/comm/communicator.hpp"
#include "runtime/plan.hpp"

namespace kiln::train {

class Evaluator {
 public:
  // `model` is the forward graph with its loss (as trained); `batch` the most
  // rows one forward pass takes. `fuse` as CompileOptions::fuse.
  Evaluator(const Graph& model, std::shared_ptr<ParamStore> params, std::int64_t batch, bool fuse = true);

  // Accuracy, mean loss and confusion matrix of the params as they are now.
  // Throws kiln::Error when the dataset does not fit the model. With `ranks`
  // (a collective call then), each rank evaluates its own contiguous share
  // of the rows and every rank gets the metrics of all of them.
  Metrics evaluate(const data::Dataset& d, Communicator* ranks = nullptr);

  const ClassifierNodes& nodes() const { return nodes_; }

 private:
  Plan& plan_for(std::int64_t rows);

  Graph model_;
  ClassifierNodes nodes_;
  std::shared_ptr<ParamStore> params_;
  std::int64_t batch_;
  bool fuse_;
  std::map<std::int64_t, Plan> plans_;  // by batch size
};

}  // namespace kiln::train
