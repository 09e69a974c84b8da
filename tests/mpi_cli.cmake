# The data-parallel CLI tests (tests/cli/data_parallel_cli_test.cpp) run
# `kiln train` under mpirun: compiled into kiln_tests only when kiln was
# built with MPI and mpiexec was found (the same condition as tests/mpi.cmake).
if(KILN_MPI_FOUND AND MPIEXEC_EXECUTABLE)
  target_compile_definitions(kiln_tests PRIVATE KILN_MPIRUN="${MPIEXEC_EXECUTABLE}")
endif()
