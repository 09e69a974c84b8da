#include "frontends/train/batches.hpp"

#include <algorithm>
#include <numeric>

#include "frontends/data/random.hpp"
#include "graph/error.hpp"
#include "runtime/random.hpp"

namespace kiln::train {

template <class T>
void copy_rows(const data::Dataset& data, const std::int64_t* order, std::int64_t rows, T* x, std::int32_t* y) {
  const std::int64_t f = data.features;
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t r = order[i];
    std::copy_n(data.row(r), f, x + i * f);
    y[i] = data.y[static_cast<std::size_t>(r)];
  }
}
template void copy_rows<float>(const data::Dataset&, const std::int64_t*, std::int64_t, float*, std::int32_t*);
template void copy_rows<double>(const data::Dataset&, const std::int64_t*, std::int64_t, double*, std::int32_t*);

void check_fits(const data::Dataset& data, const ClassifierNodes& nodes, const std::string& model) {
  if (data.features != nodes.features)
    throw Error("dataset '" + data.name + "' has " + std::to_string(data.features) + " features per row, but model '" +
                model + "' reads " + std::to_string(nodes.features) + " (input '" + nodes.input + "' " +
                nodes.input_shape.str() + ")");
  for (std::size_t r = 0; r < data.y.size(); ++r)
    if (data.y[r] < 0 || data.y[r] >= nodes.classes)
      throw Error("dataset '" + data.name + "' row " + std::to_string(r) + " has label " + std::to_string(data.y[r]) +
                  ", outside model '" + model + "''s " + std::to_string(nodes.classes) + " classes (labels '" +
                  nodes.labels + "')");
}

ShuffledBatches::ShuffledBatches(const data::Dataset& data, const ClassifierNodes& nodes, bool shuffle,
                                 std::uint64_t seed, Shard shard)
    : data_(data), nodes_(nodes), shuffle_(shuffle), seed_(seed), shard_(shard),
      order_(static_cast<std::size_t>(data.rows)) {
  if (shard.ranks < 1 || shard.rank < 0 || shard.rank >= shard.ranks)
    throw Error("shard " + std::to_string(shard.rank) + " of " + std::to_string(shard.ranks) +
                ": expected a rank in [0, ranks)");
  const std::int64_t global = nodes.batch * shard.ranks;
  if (data.rows < global)
    throw Error("dataset '" + data.name + "' has " + std::to_string(data.rows) + " rows, fewer than one batch of " +
                std::to_string(global) + " (use a smaller --batch, or --batch full)");
  std::iota(order_.begin(), order_.end(), std::int64_t{0});
}

void ShuffledBatches::start_epoch(std::int64_t epoch) {
  std::iota(order_.begin(), order_.end(), std::int64_t{0});
  if (!shuffle_) return;
  // Nearby epochs get unrelated streams; resuming needs only (seed, epoch).
  data::Rng rng(mix_seeds(seed_, static_cast<std::uint64_t>(epoch)));
  data::shuffle(order_, rng);
}

std::int64_t ShuffledBatches::count() const { return data_.rows / (nodes_.batch * shard_.ranks); }

void ShuffledBatches::fill(std::int64_t index, Plan& plan) const {
  if (index < 0 || index >= count())
    throw Error("batch " + std::to_string(index) + " of dataset '" + data_.name + "': an epoch has " +
                std::to_string(count()) + " batches");
  const std::int64_t* rows = order_.data() + (index * shard_.ranks + shard_.rank) * nodes_.batch;
  std::int32_t* y = plan.labels_buffer(nodes_.labels);
  if (nodes_.dtype == DType::f64)
    copy_rows(data_, rows, nodes_.batch, plan.input_buffer<double>(nodes_.input), y);
  else
    copy_rows(data_, rows, nodes_.batch, plan.input_buffer<float>(nodes_.input), y);
}

}  // namespace kiln::train
