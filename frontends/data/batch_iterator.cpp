#include "frontends/data/batch_iterator.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "graph/error.hpp"

namespace kiln::data {

BatchIterator::BatchIterator(const Dataset& data, std::int64_t batch, bool shuffle, std::uint64_t seed, bool drop_last)
    : data_(data), batch_(batch), shuffle_(shuffle), drop_last_(drop_last), rng_(seed) {
  validate(data_);
  if (batch_ < 1) throw Error("batches of dataset '" + data_.name + "': batch size " + std::to_string(batch_) + " < 1");
  if (drop_last_ && batch_ > data_.rows)
    throw Error("batches of dataset '" + data_.name + "': batch size " + std::to_string(batch_) + " exceeds its " +
                std::to_string(data_.rows) + " rows, so no full batch exists (use a smaller batch or drop_last = false)");
  order_.resize(static_cast<std::size_t>(data_.rows));
  std::iota(order_.begin(), order_.end(), std::int64_t{0});
}

void BatchIterator::start_epoch() {
  if (shuffle_) shuffle(order_, rng_);  // reshuffling the last order is as random as starting from 0..n-1
  position_ = 0;
  started_ = true;
}

bool BatchIterator::next(float* x_out, std::int32_t* y_out, std::int64_t& rows_out) {
  if (!started_) throw Error("batches of dataset '" + data_.name + "': next() before start_epoch()");
  const std::int64_t left = data_.rows - position_;
  const std::int64_t rows = std::min(batch_, left);
  if (rows == 0 || (drop_last_ && rows < batch_)) {
    rows_out = 0;
    return false;
  }
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t r = order_[static_cast<std::size_t>(position_ + i)];
    std::copy_n(data_.row(r), data_.features, x_out + i * data_.features);
    y_out[i] = data_.y[static_cast<std::size_t>(r)];
  }
  position_ += rows;
  rows_out = rows;
  return true;
}

std::int64_t BatchIterator::batches_per_epoch() const {
  return drop_last_ ? data_.rows / batch_ : (data_.rows + batch_ - 1) / batch_;
}

}  // namespace kiln::data
