#pragma once
// kiln bench started by mpirun: what a data-parallel step costs on each
// rank, split into the compute it would cost alone and the communication
// the gradient sums add.
#include <cstdint>
#include <memory>
#include <string>

#include "graph/graph.hpp"
#include "runtime/comm/communicator.hpp"

namespace kiln::cli {

struct RanksBench {
  Graph model;                   // forward graph with its loss, at the global batch
  std::string name;              // as the user gave it
  std::string cpu;               // the CPU's model name
  int steps = 200, warmup = 20, threads = 1;
  bool fuse = true, json = false;
  double lr = 0.01;
  std::uint64_t seed = 0;
};

// Times, on every rank of `world` at once, the data-parallel step (each rank
// a 1/N share of the batch), the same per-rank step compiled without a
// communicator, and the gradients' sums alone; rank 0 prints the figures.
// Throws kiln::Error when the batch does not split evenly over the ranks.
void run_ranks_bench(const RanksBench& bench, const std::shared_ptr<Communicator>& world);

}  // namespace kiln::cli
