# The data-parallel check over real MPI: tests/mpi/mpi_training_check.cpp run
# by mpirun on 2 ranks (the machines here have 2 cores: --oversubscribe lets
# it run on fewer). Registered only when kiln was built with MPI and mpiexec
# was found; the thread-communicator tests in kiln_tests cover the same
# plans without MPI.
if(KILN_MPI_FOUND AND MPIEXEC_EXECUTABLE)
  add_executable(kiln_mpi_check ${CMAKE_CURRENT_SOURCE_DIR}/mpi/mpi_training_check.cpp
                                ${CMAKE_CURRENT_SOURCE_DIR}/alloc_hook/allocation_counter.cpp)
  target_link_libraries(kiln_mpi_check PRIVATE kiln)
  add_dependencies(kiln_tests kiln_mpi_check)

  execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _kiln_mpiexec_version ERROR_QUIET)
  set(_kiln_mpirun_args ${MPIEXEC_NUMPROC_FLAG} 2)
  set(_kiln_mpi_env "")
  if(_kiln_mpiexec_version MATCHES "Open MPI|OpenRTE")
    # CI runs as root in a container: OpenMPI refuses root without
    # --allow-run-as-root, refuses more ranks than cores without
    # --oversubscribe, and its shared-memory transport's single-copy path
    # (CMA) needs ptrace rights containers lack. self+vader (shared memory)
    # is all one machine needs, and keeps it from probing network devices.
    list(PREPEND _kiln_mpirun_args --allow-run-as-root --oversubscribe --mca btl self,vader)
    list(APPEND _kiln_mpi_env OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
         OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
  endif()
  if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=")
    # make test-sanitize: the test runs under ASan and UBSan like every
    # other, but without LeakSanitizer. OpenMPI 4.1 leaves memory unfreed at
    # MPI_Finalize (e.g. a persistent in-place allreduce's buffer in libnbc),
    # mostly in components it dlcloses, so the leak reports cannot name their
    # frames and no suppressions file can match them. kiln's own code is
    # leak-checked by every other test, the data-parallel plans included
    # (kiln_tests [data_parallel], thread communicator).
    list(APPEND _kiln_mpi_env
         "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1")
  endif()
  add_test(NAME mpi_2_ranks_train_as_1_process
           COMMAND ${MPIEXEC_EXECUTABLE} ${_kiln_mpirun_args} $<TARGET_FILE:kiln_mpi_check>)
  set_tests_properties(mpi_2_ranks_train_as_1_process PROPERTIES ENVIRONMENT "${_kiln_mpi_env}" TIMEOUT 300)
endif()

# The measuring tool behind the scaling notes' figures (run by hand).
if(KILN_MPI_FOUND)
  add_executable(kiln_mpi_step_time ${CMAKE_CURRENT_SOURCE_DIR}/mpi/mpi_step_time.cpp)
  target_link_libraries(kiln_mpi_step_time PRIVATE kiln)
endif()
