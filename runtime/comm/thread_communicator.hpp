#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "runtime/comm/communicator.hpp"

namespace kiln {

// `size` communicators for `size` threads of one process, rank i being
// element i: a world without MPI, with MPI's semantics (every rank calls the
// same collectives in the same order; each blocks until all ranks arrived),
// so data-parallel plans run in the ordinary test suite and under the
// sanitizers. The sum of element i adds the ranks' values in rank order, so
// every rank gets bitwise the same result. start_allreduce_sum completes the
// sum before it returns (wait() has nothing left to do): the results are
// MPI's, the overlap is not. abort() ends the process. Allocates nothing
// after construction. Throws kiln::Error for size < 1.
std::vector<std::shared_ptr<Communicator>> thread_communicators(int size);

// Runs body(communicator) on `size` threads, one per rank of
// thread_communicators(size), and joins them; rethrows the first exception
// a rank threw. A rank that throws while the others wait in a collective
// leaves them waiting: bodies should fail by returning, as a test's CHECKs do.
void run_ranks(int size, const std::function<void(const std::shared_ptr<Communicator>& comm)>& body);

}  // namespace kiln
