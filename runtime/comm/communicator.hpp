#pragma once
// The processes a data-parallel plan runs on. A plan compiled with a
// communicator of size N > 1 sums every weight gradient across the N ranks
// (scaled so the update equals the one-process update on the global batch)
// before its update; each rank feeds its own slice of the global batch.
//
// kiln talks to MPI only through this interface: the runtime's kernels, the
// training loop and the CLI never include <mpi.h>, so kiln builds and runs
// the same without MPI (mpi_world() then returns nullptr).
#include <cstddef>
#include <memory>

#include "graph/dtype.hpp"

namespace kiln {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Sums `count` elements of `dtype` at `data` over all ranks, in place;
  // every rank ends with the sum. Blocks until done.
  virtual void allreduce_sum(void* data, std::size_t count, DType dtype) = 0;

  // The same reduction, started without waiting (MPI_Iallreduce): `data`
  // must stay untouched until wait(request) returns. Requests are small
  // integers owned by the communicator; starting one allocates nothing
  // after the first few (the plan's steps must not allocate).
  using Request = int;
  virtual Request start_allreduce_sum(void* data, std::size_t count, DType dtype) = 0;
  virtual void wait(Request request) = 0;

  // Copies `bytes` at `data` from rank `root` to every other rank.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;

  virtual void barrier() = 0;

  // Ends every rank at once (MPI_Abort): for a rank that cannot go on while
  // the others would wait for it forever.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// True when this kiln was built with MPI (CMake option KILN_WITH_MPI, on when
// MPI is found).
bool built_with_mpi();

// True when this process was started by mpirun/mpiexec (read from the
// launcher's environment, without initialising MPI).
bool launched_by_mpi();

// The processes started together by mpirun (MPI_COMM_WORLD), initialising
// MPI on first use and finalising it at exit. nullptr when kiln was built
// without MPI or the process was not started by mpirun.
std::shared_ptr<Communicator> mpi_world();

}  // namespace kiln
