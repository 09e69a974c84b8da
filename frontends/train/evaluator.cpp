#include "frontends/train/evaluator.hpp"

#include <algorithm>

#include "frontends/train/batches.hpp"
#include "graph/error.hpp"

namespace kiln::train {

Evaluator::Evaluator(const Graph& model, std::shared_ptr<ParamStore> params, std::int64_t batch, bool fuse)
    : model_(model), nodes_(find_classifier_nodes(model, "the model")), params_(std::move(params)), batch_(batch),
      fuse_(fuse) {
  if (batch_ < 1) throw Error("evaluation batch size " + std::to_string(batch_) + ": expected at least 1 row");
}

Plan& Evaluator::plan_for(std::int64_t rows) {
  auto found = plans_.find(rows);
  if (found != plans_.end()) return found->second;
  PlanOptions options;
  options.compile.differentiate = false;
  options.compile.fuse = fuse_;
  options.compile.outputs = {nodes_.logits};
  Graph g = edit_graph(model_, GraphEdits{.batch = rows, .init = std::nullopt, .drop_loss = true});
  return plans_.emplace(rows, compile(g, options, params_)).first->second;
}

Metrics Evaluator::evaluate(const data::Dataset& d, Communicator* ranks) {
  check_fits(d, nodes_, "the model");
  Metrics metrics(nodes_.classes);
  std::int64_t begin = 0, end = d.rows;
  if (ranks) {
    begin = d.rows * ranks->rank() / ranks->size();
    end = d.rows * (ranks->rank() + 1) / ranks->size();
  }
  for (std::int64_t first = begin; first < end; first += batch_) {
    const std::int64_t rows = std::min(batch_, end - first);
    Plan& plan = plan_for(rows);
    const float* x = d.row(first);
    const std::int64_t values = rows * d.features;
    if (nodes_.dtype == DType::f64)
      std::copy_n(x, values, plan.input_buffer<double>(nodes_.input));
    else
      std::copy_n(x, values, plan.input_buffer<float>(nodes_.input));
    plan.run();
    const TensorView logits = plan.value(nodes_.logits);
    const std::int32_t* labels = d.y.data() + first;
    if (logits.dtype == DType::f64)
      metrics.add(logits.as<double>(), labels, rows);
    else
      metrics.add(logits.as<float>(), labels, rows);
  }
  if (ranks) metrics.sum_over(*ranks);
  return metrics;
}

}  // namespace kiln::train
