#pragma once
// What a training run reports: one record per epoch, written as the run log
// CSV, drawn as loss and accuracy curves (SVG), and summed up as JSON.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::train {

struct EpochRecord {
  std::int64_t epoch = 0;  // 0-based, counted across resumed runs
  // Mean training loss over the epoch's steps, each step's loss computed
  // before its update.
  double loss = 0;
  // After the epoch; all absent for an epoch not evaluated (--eval-every).
  std::optional<double> train_accuracy, val_accuracy, test_accuracy;
  double seconds = 0;  // since the run started, evaluation included
};

// The --log file: header epoch,loss,train_accuracy,val_accuracy,test_accuracy,seconds
// and one row per record; an absent accuracy (no such split, or an epoch not
// evaluated) is an empty cell, and the SVG's lines join the epochs that have one.
std::string run_log_csv(const std::vector<EpochRecord>& records);

// The --plot file: training loss (left) and accuracies (right) against the
// epoch, as a standalone SVG document.
std::string curves_svg(const std::vector<EpochRecord>& records, const std::string& title);

struct RunSummary {
  std::string model, data, optimizer;
  std::string status = "completed";  // or "interrupted by SIGINT", ...
  std::int64_t epochs = 0;           // run this time
  std::int64_t total_epochs = 0;     // including those of a loaded checkpoint
  std::int64_t steps = 0;            // run this time
  int ranks = 1;                     // data-parallel processes (mpirun -np)
  std::int64_t batch_per_rank = 0;   // rows of each batch one rank took
  double seconds = 0;
  double eval_seconds = 0;  // of `seconds`, spent evaluating
  std::optional<double> final_loss, train_accuracy, val_accuracy, test_accuracy;
  std::optional<double> train_loss, val_loss, test_loss;  // mean cross-entropy at the end
};

// The --summary-json file (steps_per_second derived from steps and seconds).
std::string summary_json(const RunSummary& summary);

}  // namespace kiln::train
