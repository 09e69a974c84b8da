#pragma once
// Streams a training set into a plan's own input and labels buffers, one
// fixed-size batch at a time, without allocating per step:
//
//   ShuffledBatches batches(train, nodes, /*shuffle=*/true, seed);
//   for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
//     batches.start_epoch(epoch);
//     for (std::int64_t b = 0; b < batches.count(); ++b) {
//       batches.fill(b, plan);
//       loss += plan.step();
//     }
//   }
//
// An epoch's row order depends only on (seed, epoch), never on the epochs
// before it, so a run resumed from a checkpoint at epoch e (even mid-epoch,
// at batch b) sees exactly the batches an uninterrupted run would. Like
// PyTorch's DataLoader(drop_last=True), every batch is full and the
// rows % batch rows left over are skipped (a different few each shuffled
// epoch).
//
// Data-parallel, each of n ranks feeds its own share of every batch (see
// Shard): together they see exactly the batches one process would.
#include <cstdint>
#include <vector>

#include "frontends/data/dataset.hpp"
#include "frontends/train/model_graph.hpp"
#include "runtime/plan.hpp"

namespace kiln::train {

// The part of every batch this process feeds in a data-parallel run: with
// a plan of b rows, rank r of n takes rows [r*b, (r+1)*b) of each global
// batch of n*b rows, in the row order one process would use.
struct Shard {
  int rank = 0;
  int ranks = 1;
};

class ShuffledBatches {
 public:
  // `nodes` names the plan's input and labels and gives the batch size (this
  // rank's rows of a batch). Throws kiln::Error when the dataset does not fit
  // the model (see check_fits) or has fewer rows than one (global) batch.
  ShuffledBatches(const data::Dataset& data, const ClassifierNodes& nodes, bool shuffle, std::uint64_t seed,
                  Shard shard = {});

  void start_epoch(std::int64_t epoch);
  // Full (global) batches per epoch.
  std::int64_t count() const;
  // Copies this rank's share of batch `index` of the current epoch into the
  // plan's input and labels buffers (converting the features to the input's
  // dtype).
  void fill(std::int64_t index, Plan& plan) const;

 private:
  const data::Dataset& data_;
  ClassifierNodes nodes_;
  bool shuffle_;
  std::uint64_t seed_;
  Shard shard_;
  std::vector<std::int64_t> order_;
};

// Throws kiln::Error when `data` cannot feed the model: another feature
// count than one row of the input holds (naming the input and its shape), or
// a label at or above the model's class count (naming the row).
void check_fits(const data::Dataset& data, const ClassifierNodes& nodes, const std::string& model);

// Copies rows order[first .. first+rows) of `data` to x (rows × features) and y.
template <class T>
void copy_rows(const data::Dataset& data, const std::int64_t* order, std::int64_t rows, T* x, std::int32_t* y);

}  // namespace kiln::train
