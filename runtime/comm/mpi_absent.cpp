// The build without MPI (KILN_WITH_MPI off, or MPI not found): kiln runs as
// one process. CMakeLists.txt compiles this file or mpi_world.cpp, never both.
#include "runtime/comm/communicator.hpp"

namespace kiln {

bool built_with_mpi() { return false; }

std::shared_ptr<Communicator> mpi_world() { return nullptr; }

}  // namespace kiln
