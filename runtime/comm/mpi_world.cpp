// The Communicator over MPI_COMM_WORLD: the one file of kiln that includes
// <mpi.h> (compiled only when CMake finds MPI; mpi_absent.cpp otherwise).
// MPI's C API only: without these, OpenMPI's and MPICH's mpi.h pull in their
// deprecated C++ bindings, which live in another library.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#if defined(OPEN_MPI) && OPEN_MPI
#include <mpi-ext.h>
#endif

#include <algorithm>
#include <climits>
#include <cstdio>
#include <mutex>
#include <vector>

#include "graph/error.hpp"
#include "runtime/comm/communicator.hpp"

// Persistent collectives (MPI-4's MPI_Allreduce_init, OpenMPI 4's MPIX_
// extension) set up a reduction once and restart it every step, which is what
// keeps a plan's step free of allocation: MPI_Iallreduce builds a new
// schedule (heap memory) on every call.
#if MPI_VERSION >= 4
#define KILN_ALLREDUCE_INIT MPI_Allreduce_init
#elif defined(OMPI_HAVE_MPI_EXT_PCOLLREQ) && OMPI_HAVE_MPI_EXT_PCOLLREQ
#define KILN_ALLREDUCE_INIT MPIX_Allreduce_init
#endif

namespace kiln {
namespace {

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT32_T;
  }
  return MPI_FLOAT;
}

// MPI counts are int: a larger buffer goes in pieces.
constexpr std::size_t kMaxCount = INT_MAX;

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      // Only the thread that runs the plan calls MPI (the GEMM threads never do).
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      owns_mpi_ = true;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  ~MpiCommunicator() override {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (finalised) return;
    for (Slot& s : slots_)
      if (s.persistent) MPI_Request_free(&s.request);
    MPI_Comm_free(&comm_);
    if (owns_mpi_) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allreduce_sum(void* data, std::size_t count, DType dtype) override {
    auto* bytes = static_cast<char*>(data);
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = std::min(count - done, kMaxCount);
      MPI_Allreduce(MPI_IN_PLACE, bytes + done * dtype_size(dtype), static_cast<int>(n), mpi_type(dtype), MPI_SUM,
                    comm_);
      done += n;
    }
  }

  // A plan starts the same reductions over the same buffers every step, so
  // each (buffer, count, dtype) gets one persistent request, made on first
  // use and restarted after. Only the plan's thread calls this.
  Request start_allreduce_sum(void* data, std::size_t count, DType dtype) override {
    if (count > kMaxCount)
      throw Error("allreduce of " + std::to_string(count) + " elements: more than MPI's limit of " +
                  std::to_string(kMaxCount) + " in one non-blocking call");
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (s.data == data && s.count == count && s.dtype == dtype && !s.active) return start(i);
    }
    Slot s{data, count, dtype, MPI_REQUEST_NULL, false, false};
#ifdef KILN_ALLREDUCE_INIT
    KILN_ALLREDUCE_INIT(MPI_IN_PLACE, data, static_cast<int>(count), mpi_type(dtype), MPI_SUM, comm_, MPI_INFO_NULL,
                        &s.request);
    s.persistent = true;
#endif
    slots_.push_back(s);
    return start(slots_.size() - 1);
  }

  void wait(Request request) override {
    Slot& s = slots_.at(static_cast<std::size_t>(request));
    MPI_Wait(&s.request, MPI_STATUS_IGNORE);
    s.active = false;
  }

  void broadcast(void* data, std::size_t bytes, int root) override {
    auto* p = static_cast<char*>(data);
    for (std::size_t done = 0; done < bytes;) {
      const std::size_t n = std::min(bytes - done, kMaxCount);
      MPI_Bcast(p + done, static_cast<int>(n), MPI_BYTE, root, comm_);
      done += n;
    }
  }

  void barrier() override { MPI_Barrier(comm_); }

  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this tells the compiler so
  }

 private:
  struct Slot {
    void* data;
    std::size_t count;
    DType dtype;
    MPI_Request request;
    bool persistent;
    bool active;
  };

  Request start(std::size_t i) {
    Slot& s = slots_[i];
    if (s.persistent) {
      MPI_Start(&s.request);
    } else {
      MPI_Iallreduce(MPI_IN_PLACE, s.data, static_cast<int>(s.count), mpi_type(s.dtype), MPI_SUM, comm_, &s.request);
    }
    s.active = true;
    return static_cast<Request>(i);
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  bool owns_mpi_ = false;
  std::vector<Slot> slots_;
};

}  // namespace

bool built_with_mpi() { return true; }

std::shared_ptr<Communicator> mpi_world() {
  if (!launched_by_mpi()) return nullptr;
  // Made once; finalised when the program exits (static destruction), after
  // main's plans, which hold it, are gone.
  static std::shared_ptr<Communicator> world = std::make_shared<MpiCommunicator>();
  return world;
}

}  // namespace kiln
