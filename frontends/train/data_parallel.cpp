#include "frontends/train/data_parallel.hpp"

#include <string>

#include "graph/error.hpp"

namespace kiln::train {

std::shared_ptr<Communicator> launched_world() {
  if (!launched_by_mpi()) return nullptr;
  if (!built_with_mpi())
    throw Error(
        "this process was started by mpirun, but this kiln was built without MPI (configure with "
        "-DKILN_WITH_MPI=ON, libopenmpi-dev installed); each rank would train alone and write the same files");
  return mpi_world();
}

std::int64_t rows_per_rank(std::int64_t global_batch, int ranks) {
  if (ranks < 1) throw Error("data-parallel run on " + std::to_string(ranks) + " ranks: expected at least 1");
  if (global_batch % ranks != 0)
    throw Error("a batch of " + std::to_string(global_batch) + " rows does not split evenly over the " +
                std::to_string(ranks) + " ranks mpirun started (" + std::to_string(global_batch % ranks) +
                (global_batch % ranks == 1 ? " row" : " rows") + " left over); choose a --batch divisible by " +
                std::to_string(ranks));
  return global_batch / ranks;
}

}  // namespace kiln::train
