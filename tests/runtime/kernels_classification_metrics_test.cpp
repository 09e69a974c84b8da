// The evaluation scoring kernel (runtime/kernels/classification_metrics.hpp)
// against a scalar reference in long double: the summed cross-entropy, the
// correct count and every confusion count, for f32 and f64 logits, any
// width (1 class, narrow, the vector widths and their neighbours, wider than
// the kernel's stack block), huge logits and ties.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "runtime/kernels/classification_metrics.hpp"

namespace {

struct Scores {
  double loss_sum = 0;
  std::int64_t correct = 0;
  std::vector<std::int64_t> confusion;
};

// Written apart from the kernel: long double, libm's expl/logl, the first
// strictly greatest column as the prediction.
template <class T>
Scores reference(const std::vector<T>& z, const std::vector<std::int32_t>& labels, std::int64_t classes) {
  Scores s;
  s.confusion.assign(static_cast<std::size_t>(classes * classes), 0);
  long double total = 0;
  for (std::size_t r = 0; r < labels.size(); ++r) {
    const T* row = z.data() + r * static_cast<std::size_t>(classes);
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < classes; ++c)
      if (row[c] > row[best]) best = c;
    long double sum = 0;
    for (std::int64_t c = 0; c < classes; ++c) sum += expl(static_cast<long double>(row[c]) - row[best]);
    total += static_cast<long double>(row[best]) + logl(sum) - static_cast<long double>(row[labels[r]]);
    s.correct += best == labels[r];
    ++s.confusion[static_cast<std::size_t>(labels[r] * classes + best)];
  }
  s.loss_sum = static_cast<double>(total);
  return s;
}

template <class T>
Scores kernel(const std::vector<T>& z, const std::vector<std::int32_t>& labels, std::int64_t classes) {
  Scores s;
  s.confusion.assign(static_cast<std::size_t>(classes * classes), 0);
  kiln::kernels::add_classification_metrics(z.data(), labels.data(), static_cast<std::int64_t>(labels.size()), classes,
                                            &s.loss_sum, &s.correct, s.confusion.data());
  return s;
}

// Per-row loss error allowed: f32 exponentials and logs are within 2 ulp,
// so a row's log-sum-exp (its max shifted out, the rest of magnitude ≤ ~20)
// is within a few 1e-6; f64 is checked near double precision.
template <class T>
constexpr double kPerRow = sizeof(T) == 4 ? 2e-5 : 1e-11;

template <class T>
void check_against_reference(const std::vector<T>& z, const std::vector<std::int32_t>& labels, std::int64_t classes) {
  const Scores want = reference(z, labels, classes), got = kernel(z, labels, classes);
  const double rows = static_cast<double>(labels.size());
  CHECK(got.loss_sum == Approx(want.loss_sum).margin(kPerRow<T> * rows).epsilon(kPerRow<T>));
  CHECK(got.correct == want.correct);
  CHECK(got.confusion == want.confusion);
}

template <class T>
std::vector<T> uniform(std::size_t n, double lo, double hi, std::mt19937& rng) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(d(rng));
  return v;
}

// Small integers: many rows have tied maxima.
template <class T>
std::vector<T> tied(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-2, 2);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(d(rng));
  return v;
}

std::vector<std::int32_t> random_labels(std::size_t rows, std::int64_t classes, std::mt19937& rng) {
  std::uniform_int_distribution<std::int32_t> d(0, static_cast<std::int32_t>(classes - 1));
  std::vector<std::int32_t> v(rows);
  for (auto& y : v) y = d(rng);
  return v;
}

}  // namespace

TEMPLATE_TEST_CASE("classification metrics kernel matches a long double reference on random logits",
                   "[runtime][kernels][metrics]", float, double) {
  std::mt19937 rng(14);
  for (std::int64_t classes : {1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 31, 32, 33, 100, 2049}) {
    for (std::size_t rows : {std::size_t{1}, std::size_t{7}, std::size_t{300}, std::size_t{1000}}) {
      if (classes > 100 && rows > 7) continue;  // the wide case needs few rows
      INFO(classes << " classes, " << rows << " rows");
      const std::size_t n = rows * static_cast<std::size_t>(classes);
      const auto labels = random_labels(rows, classes, rng);
      check_against_reference(uniform<TestType>(n, -3, 3, rng), labels, classes);
      check_against_reference(uniform<TestType>(n, -1000, 1000, rng), labels, classes);
      check_against_reference(tied<TestType>(n, rng), labels, classes);
    }
  }
}

TEMPLATE_TEST_CASE("classification metrics kernel: exact values at the edges", "[runtime][kernels][metrics]", float,
                   double) {
  using T = TestType;
  SECTION("logits of +-1000 give finite, exact losses") {
    // Row 0: log(e^1000 + e^-1000) - (-1000) = 2000; row 1: the label holds the max, log(1 + e^-2000) = 0.
    const std::vector<T> z{1000, -1000, -1000, 1000};
    const Scores got = kernel(z, {1, 1}, 2);
    CHECK(got.loss_sum == Approx(2000).epsilon(1e-12));
    CHECK(got.correct == 1);
    CHECK(got.confusion == std::vector<std::int64_t>{0, 0, 1, 1});
  }
  SECTION("ties predict the first of the highest scores") {
    const std::vector<T> z{0, 5, 5, 5,  //
                           7, 7, 7, 7,  //
                           -1, -1, 2, 2};
    const Scores got = kernel(z, {2, 3, 2}, 4);
    CHECK(got.correct == 1);  // only row 2's label (2) is its first max
    std::vector<std::int64_t> want(16, 0);
    want[2 * 4 + 1] = 1;  // label 2 predicted 1
    want[3 * 4 + 0] = 1;  // label 3 predicted 0
    want[2 * 4 + 2] = 1;
    CHECK(got.confusion == want);
    const double lse_row0 = 5 + std::log(3 + std::exp(-5.0)), lse_row1 = 7 + std::log(4.0), lse_row2 = 2 + std::log(2 + 2 * std::exp(-3.0));
    CHECK(got.loss_sum == Approx((lse_row0 - 5) + (lse_row1 - 7) + (lse_row2 - 2)).epsilon(1e-6));
  }
  SECTION("one class: every row correct, no loss") {
    const std::vector<T> z{3, -1e30f, 0};
    const Scores got = kernel(z, {0, 0, 0}, 1);
    CHECK(got.loss_sum == 0);
    CHECK(got.correct == 3);
    CHECK(got.confusion == std::vector<std::int64_t>{3});
  }
  SECTION("sums accumulate over calls; no rows adds nothing") {
    std::mt19937 rng(3);
    const auto z = uniform<T>(40 * 10, -4, 4, rng);
    const auto labels = random_labels(40, 10, rng);
    const Scores whole = kernel(z, labels, 10);
    Scores parts;
    parts.confusion.assign(100, 0);
    for (std::size_t first : {std::size_t{0}, std::size_t{13}, std::size_t{40}})
      kiln::kernels::add_classification_metrics(z.data() + first * 10, labels.data() + first,
                                                first == 40 ? 0 : first == 0 ? 13 : 27, 10, &parts.loss_sum,
                                                &parts.correct, parts.confusion.data());
    CHECK(parts.loss_sum == Approx(whole.loss_sum).epsilon(1e-12));
    CHECK(parts.correct == whole.correct);
    CHECK(parts.confusion == whole.confusion);
  }
}
