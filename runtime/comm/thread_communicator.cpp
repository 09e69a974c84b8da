#include "runtime/comm/thread_communicator.hpp"

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "graph/error.hpp"

namespace kiln {
namespace {

// What the ranks of one world share: a reusable barrier and one posted
// buffer per rank.
struct World {
  explicit World(int n) : size(n), posted(static_cast<std::size_t>(n), nullptr) {}

  void barrier() {
    std::unique_lock lock(mutex);
    const std::uint64_t generation = this->generation;
    if (++arrived == size) {
      arrived = 0;
      ++this->generation;
      all_arrived.notify_all();
      return;
    }
    all_arrived.wait(lock, [&] { return this->generation != generation; });
  }

  const int size;
  std::vector<void*> posted;
  std::mutex mutex;
  std::condition_variable all_arrived;
  int arrived = 0;
  std::uint64_t generation = 0;
};

// Rank r sums elements [begin, end) over every rank's buffer, in rank order,
// and writes the sum back into every buffer: the ranks' slices are disjoint,
// so no two threads touch one element.
template <class T>
void sum_slice(const std::vector<void*>& buffers, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) {
    T sum = static_cast<const T*>(buffers[0])[i];
    for (std::size_t k = 1; k < buffers.size(); ++k) sum += static_cast<const T*>(buffers[k])[i];
    for (void* b : buffers) static_cast<T*>(b)[i] = sum;
  }
}

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(std::shared_ptr<World> world, int rank) : world_(std::move(world)), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return world_->size; }

  void allreduce_sum(void* data, std::size_t count, DType dtype) override {
    World& w = *world_;
    w.posted[static_cast<std::size_t>(rank_)] = data;
    w.barrier();  // every buffer posted
    const std::size_t n = static_cast<std::size_t>(w.size), r = static_cast<std::size_t>(rank_);
    const std::size_t begin = count * r / n, end = count * (r + 1) / n;
    switch (dtype) {
      case DType::f32: sum_slice<float>(w.posted, begin, end); break;
      case DType::f64: sum_slice<double>(w.posted, begin, end); break;
      case DType::i32: sum_slice<std::int32_t>(w.posted, begin, end); break;
    }
    w.barrier();  // every slice summed: the buffers may be reused
  }

  Request start_allreduce_sum(void* data, std::size_t count, DType dtype) override {
    allreduce_sum(data, count, dtype);
    return 0;
  }

  void wait(Request) override {}

  void broadcast(void* data, std::size_t bytes, int root) override {
    World& w = *world_;
    w.posted[static_cast<std::size_t>(rank_)] = data;
    w.barrier();
    if (rank_ != root) std::memcpy(data, w.posted[static_cast<std::size_t>(root)], bytes);
    w.barrier();
  }

  void barrier() override { world_->barrier(); }

  [[noreturn]] void abort(int exit_code) override {
    std::fprintf(stderr, "kiln: rank %d of %d (threads) aborted every rank\n", rank_, world_->size);
    std::fflush(stderr);
    std::_Exit(exit_code);
  }

 private:
  std::shared_ptr<World> world_;
  int rank_;
};

}  // namespace

std::vector<std::shared_ptr<Communicator>> thread_communicators(int size) {
  if (size < 1) throw Error("thread communicators: expected at least 1 rank, found " + std::to_string(size));
  auto world = std::make_shared<World>(size);
  std::vector<std::shared_ptr<Communicator>> out;
  for (int r = 0; r < size; ++r) out.push_back(std::make_shared<ThreadCommunicator>(world, r));
  return out;
}

void run_ranks(int size, const std::function<void(const std::shared_ptr<Communicator>& comm)>& body) {
  std::vector<std::shared_ptr<Communicator>> comms = thread_communicators(size);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back([&, r] {
      try {
        body(comms[static_cast<std::size_t>(r)]);
      } catch (...) {
        errors[static_cast<std::size_t>(r)] = std::current_exception();
      }
    });
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace kiln
