#pragma once
// The C++ training API in one include: model graph edits, batches streamed
// into a plan, evaluation over shared params, metrics, run logs, checkpoint
// state and the per-model defaults. See docs/training.md and examples/.
#include "frontends/train/batches.hpp"
#include "frontends/train/checkpoint_state.hpp"
#include "frontends/train/data_parallel.hpp"
#include "frontends/train/evaluator.hpp"
#include "frontends/train/interrupt.hpp"
#include "frontends/train/metrics.hpp"
#include "frontends/train/model_graph.hpp"
#include "frontends/train/prepare.hpp"
#include "frontends/train/recipes.hpp"
#include "frontends/train/run_log.hpp"
