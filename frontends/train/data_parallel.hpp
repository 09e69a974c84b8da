#pragma once
// Data-parallel training from the training loop's side. The plan sums the
// weight gradients over the ranks (PlanOptions::communicator); the loop
// around it must give each rank its share of every batch (Shard in
// batches.hpp), start every rank from the same params, and add up what the
// ranks measured:
//
//   std::shared_ptr<Communicator> world = launched_world();  // nullptr alone
//   int ranks = world ? world->size() : 1;
//   std::int64_t rows = rows_per_rank(global_batch, ranks);  // the plan's batch
//   ... compile with options.communicator = world, rank 0's params broadcast ...
//   ShuffledBatches batches(train, nodes, true, seed, {world->rank(), ranks});
//   double loss = plan.step();  // the whole batch's: the mean over the ranks
//   Metrics test = evaluator.evaluate(split.test, world.get());
#include <cstdint>
#include <memory>

#include "runtime/comm/communicator.hpp"

namespace kiln::train {

// The ranks mpirun started this process with, or nullptr when it was started
// alone. Throws kiln::Error when mpirun started it but kiln was built without
// MPI: each process would then train the whole model alone and all would
// write the same files.
std::shared_ptr<Communicator> launched_world();

// The rows each of `ranks` ranks takes of a batch of `global_batch` rows.
// Throws kiln::Error naming both numbers when they do not divide.
std::int64_t rows_per_rank(std::int64_t global_batch, int ranks);

}  // namespace kiln::train
