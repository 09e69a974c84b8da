#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

#include "frontends/data/batch_iterator.hpp"
#include "graph/error.hpp"

using namespace kiln::data;

namespace {

// Row r holds features (r, -r) and label r % 4, so a batch row tells which row it came from.
Dataset numbered(std::int64_t rows) {
  Dataset d;
  d.name = "numbered";
  d.rows = rows;
  d.features = 2;
  d.classes = 4;
  for (std::int64_t r = 0; r < rows; ++r) {
    d.x.push_back(float(r));
    d.x.push_back(-float(r));
    d.y.push_back(static_cast<std::int32_t>(r % 4));
  }
  return d;
}

// The rows of one epoch, in order, checking that labels travel with their features.
std::vector<std::int64_t> epoch_rows(BatchIterator& batches, std::vector<std::int64_t>* batch_sizes = nullptr) {
  const std::int64_t b = batches.batch_size();
  std::vector<float> x(static_cast<std::size_t>(b * 2), -1.0f);
  std::vector<std::int32_t> y(static_cast<std::size_t>(b), -1);
  std::vector<std::int64_t> rows;
  std::int64_t count = 0;
  batches.start_epoch();
  while (batches.next(x.data(), y.data(), count)) {
    if (batch_sizes) batch_sizes->push_back(count);
    for (std::int64_t i = 0; i < count; ++i) {
      const auto r = static_cast<std::int64_t>(x[static_cast<std::size_t>(2 * i)]);
      REQUIRE(x[static_cast<std::size_t>(2 * i + 1)] == -float(r));
      REQUIRE(y[static_cast<std::size_t>(i)] == r % 4);
      rows.push_back(r);
    }
  }
  CHECK(count == 0);
  return rows;
}

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

}  // namespace

TEST_CASE("batches without drop_last cover every row exactly once per epoch, shuffled", "[data][batch]") {
  const Dataset d = numbered(10);
  BatchIterator batches(d, 3, /*shuffle=*/true, 42, /*drop_last=*/false);
  CHECK(batches.batches_per_epoch() == 4);
  std::vector<std::vector<std::int64_t>> epochs;
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<std::int64_t> sizes;
    auto rows = epoch_rows(batches, &sizes);
    CHECK(sizes == std::vector<std::int64_t>{3, 3, 3, 1});
    epochs.push_back(rows);
    std::sort(rows.begin(), rows.end());
    CHECK(rows == iota(10));
  }
  CHECK(epochs[0] != epochs[1]);  // a new order each epoch
  CHECK(epochs[1] != epochs[2]);
  CHECK(epochs[0] != iota(10));

  BatchIterator again(d, 3, true, 42, false);
  for (int epoch = 0; epoch < 3; ++epoch) CHECK(epoch_rows(again) == epochs[static_cast<std::size_t>(epoch)]);
}

TEST_CASE("drop_last yields full batches only, and the dropped rows change between epochs", "[data][batch]") {
  const Dataset d = numbered(10);
  BatchIterator batches(d, 4, true, 7);  // drop_last is the default
  CHECK(batches.batches_per_epoch() == 2);
  std::vector<int> times_seen(10, 0);
  for (int epoch = 0; epoch < 50; ++epoch) {
    std::vector<std::int64_t> sizes;
    auto rows = epoch_rows(batches, &sizes);
    CHECK(sizes == std::vector<std::int64_t>{4, 4});
    std::sort(rows.begin(), rows.end());
    CHECK(std::adjacent_find(rows.begin(), rows.end()) == rows.end());  // no row twice
    for (const auto r : rows) ++times_seen[static_cast<std::size_t>(r)];
  }
  for (const int seen : times_seen) {
    CHECK(seen > 20);  // 40 expected: every row gets trained on
    CHECK(seen < 50);  // and each one is sometimes the dropped one
  }
}

TEST_CASE("without shuffling, batches follow dataset order", "[data][batch]") {
  const Dataset d = numbered(7);
  BatchIterator batches(d, 2, false, 0, false);
  CHECK(epoch_rows(batches) == iota(7));
  CHECK(epoch_rows(batches) == iota(7));
  BatchIterator full(d, 2, false, 0, true);
  CHECK(epoch_rows(full) == iota(6));
}

TEST_CASE("batch iterator errors", "[data][batch]") {
  const Dataset d = numbered(5);
  CHECK_THROWS_WITH(BatchIterator(d, 6, true, 1), Catch::Contains("batch size 6 exceeds its 5 rows"));
  CHECK_THROWS_AS(BatchIterator(d, 0, true, 1), kiln::Error);
  BatchIterator partial(d, 6, true, 1, false);
  CHECK(partial.batches_per_epoch() == 1);
  float x[12];
  std::int32_t y[6];
  std::int64_t rows = 0;
  CHECK_THROWS_WITH(partial.next(x, y, rows), Catch::Contains("before start_epoch"));
  partial.start_epoch();
  CHECK(partial.next(x, y, rows));
  CHECK(rows == 5);
  CHECK_FALSE(partial.next(x, y, rows));
}
