#pragma once
#include <chrono>
#include <cstddef>
#include <memory>

#include "runtime/comm/communicator.hpp"

namespace kiln {

// A Communicator that forwards to another and adds up the time spent in its
// reductions, for figures such as `kiln bench` on several ranks: compile the
// plan with it in place of the communicator it wraps. Reading the clock twice
// per call costs tens of nanoseconds and allocates nothing.
class TimedCommunicator final : public Communicator {
 public:
  struct Times {
    // Blocking reductions (allreduce_sum: the loss, broadcast_params' check).
    double blocking_seconds = 0;
    std::size_t blocking_calls = 0;
    // Starting the gradient reductions (start_allreduce_sum).
    double start_seconds = 0;
    std::size_t starts = 0;
    // Waiting for them: the communication the backward pass did not hide.
    double wait_seconds = 0;
    std::size_t waits = 0;
    // Bytes summed over the ranks, by every reduction.
    std::size_t bytes_reduced = 0;
  };

  explicit TimedCommunicator(std::shared_ptr<Communicator> inner) : inner_(std::move(inner)) {}

  const Times& times() const { return times_; }
  void reset() { times_ = {}; }

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  void allreduce_sum(void* data, std::size_t count, DType dtype) override {
    const auto t0 = Clock::now();
    inner_->allreduce_sum(data, count, dtype);
    times_.blocking_seconds += seconds_since(t0);
    ++times_.blocking_calls;
    times_.bytes_reduced += count * dtype_size(dtype);
  }
  Request start_allreduce_sum(void* data, std::size_t count, DType dtype) override {
    const auto t0 = Clock::now();
    Request r = inner_->start_allreduce_sum(data, count, dtype);
    times_.start_seconds += seconds_since(t0);
    ++times_.starts;
    times_.bytes_reduced += count * dtype_size(dtype);
    return r;
  }
  void wait(Request request) override {
    const auto t0 = Clock::now();
    inner_->wait(request);
    times_.wait_seconds += seconds_since(t0);
    ++times_.waits;
  }
  void broadcast(void* data, std::size_t bytes, int root) override { inner_->broadcast(data, bytes, root); }
  void barrier() override { inner_->barrier(); }
  [[noreturn]] void abort(int exit_code) override { inner_->abort(exit_code); }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  }

  std::shared_ptr<Communicator> inner_;
  Times times_;
};

}  // namespace kiln
