// Whether mpirun/mpiexec started this process, read from the environment the
// launchers set for their children, so that kiln can tell without
// initialising MPI (MPI_Init in a process nobody launched starts a singleton
// world and, with some launchers, waits for a server).
#include <cstdlib>

#include "runtime/comm/communicator.hpp"

namespace kiln {

bool launched_by_mpi() {
  // OpenMPI (mpirun, orterun), PMIx launchers (OpenMPI 5, srun --mpi=pmix),
  // PMI-1/2 launchers (MPICH's hydra, Intel MPI, srun --mpi=pmi2), MVAPICH.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK", "MV2_COMM_WORLD_SIZE"})
    if (const char* v = std::getenv(name); v && *v) return true;
  return false;
}

}  // namespace kiln
