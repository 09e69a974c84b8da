#pragma once
#include <cstdint>
#include <vector>

#include "frontends/data/dataset.hpp"
#include "frontends/data/random.hpp"

namespace kiln::data {

// Streams a dataset in mini-batches into buffers the caller allocated once
// (x_out: batch × features floats, y_out: batch labels), so a training loop
// does no allocation per step:
//
//   BatchIterator batches(train, 32, /*shuffle=*/true, seed);
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     batches.start_epoch();
//     while (batches.next(x, y, rows)) step(...);
//   }
//
// kiln compiles a plan for one fixed batch size, so by default (drop_last) every
// batch is full and the rows % batch rows left over at the end of an epoch are
// skipped, as PyTorch's DataLoader(drop_last=True) does; with shuffling, a
// different few are skipped each epoch. With drop_last = false the last batch of
// an epoch holds the remaining rows and `rows_out` says how many (what an
// evaluation pass over every row wants). Without shuffling rows come in dataset
// order. The dataset must outlive the iterator and not change under it.
class BatchIterator {
 public:
  BatchIterator(const Dataset& data, std::int64_t batch, bool shuffle, std::uint64_t seed, bool drop_last = true);

  // Begins the next epoch (and draws its order when shuffling); call it before
  // every epoch, the first included. Epoch k's order depends only on the seed and k.
  void start_epoch();

  // Copies the next batch into x_out / y_out and sets rows_out; returns false,
  // writing nothing, when the epoch is over.
  bool next(float* x_out, std::int32_t* y_out, std::int64_t& rows_out);

  std::int64_t batches_per_epoch() const;
  std::int64_t batch_size() const { return batch_; }

 private:
  const Dataset& data_;
  std::int64_t batch_;
  bool shuffle_, drop_last_;
  Rng rng_;
  std::vector<std::int64_t> order_;
  std::int64_t position_ = 0;  // next index into order_
  bool started_ = false;
};

}  // namespace kiln::data
