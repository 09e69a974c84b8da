// A measuring tool, not a test (built with the MPI check, never run by
// CTest): the step time of a data-parallel plan and the time its reductions
// take, for the figures in the scaling notes.
//
//   kiln_mpi_step_time [MODEL [GLOBAL_BATCH [STEPS [THREADS]]]]      one process
//   mpirun -np N kiln_mpi_step_time ...                              N ranks × GLOBAL_BATCH/N
//
// Defaults: mlp, 256, 50 steps, 1 BLAS thread per process. Prints one line
// (rank 0): ranks, rows per rank, mean step time, and per step the time spent
// starting reductions, waiting for them, and in the blocking loss reduction,
// with the bytes reduced; then the same reductions timed alone, with no
// computation between them. (The plan's f32 gradients only.)
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "frontends/models.hpp"
#include "runtime/comm/broadcast_params.hpp"
#include "runtime/comm/timed_communicator.hpp"
#include "runtime/plan.hpp"
#include "runtime/threads.hpp"

using namespace kiln;

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : "mlp";
  const std::int64_t global_batch = argc > 2 ? std::stoll(argv[2]) : 256;
  const int steps = argc > 3 ? std::stoi(argv[3]) : 50;
  set_threads(argc > 4 ? std::stoi(argv[4]) : 1);

  std::shared_ptr<Communicator> world = mpi_world();
  std::shared_ptr<TimedCommunicator> timed = world ? std::make_shared<TimedCommunicator>(world) : nullptr;
  const int ranks = world ? world->size() : 1, rank = world ? world->rank() : 0;
  ModelOptions mo;
  mo.batch = global_batch / ranks;
  PlanOptions o;
  o.optimizer = OptimizerOptions{};
  o.communicator = timed;
  Plan plan = compile(build_model(model, mo), o);
  if (timed) broadcast_params(*timed, plan.params());

  std::mt19937_64 rng(5 + static_cast<std::uint64_t>(rank));
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const Node& x = plan.graph()[plan.graph().at("x")];
  const auto classes = static_cast<std::uint64_t>(plan.graph()[plan.graph().at("y")].attrs.classes);
  float* xs = plan.input_buffer("x");
  for (std::int64_t i = 0; i < x.shape.numel(); ++i) xs[i] = u(rng);
  std::int32_t* ys = plan.labels_buffer("y");
  for (std::int64_t i = 0; i < mo.batch; ++i) ys[i] = static_cast<std::int32_t>(rng() % classes);

  for (int s = 0; s < 5; ++s) plan.step();
  if (timed) {
    timed->barrier();
    timed->reset();
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) plan.step();
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The same reductions with nothing to compute between them: what the
  // communication itself costs, apart from the ranks waiting for each other.
  double comm_only = 0;
  if (timed) {
    std::vector<std::vector<std::byte>> buffers;
    for (NodeId id : plan.order())
      if (plan.graph()[id].op == OpKind::allreduce_start) {
        const Node& n = plan.graph()[id];
        buffers.emplace_back(static_cast<std::size_t>(n.shape.numel()) * dtype_size(n.dtype));
      }
    std::vector<Communicator::Request> requests(buffers.size());
    double loss = 1;
    timed->barrier();
    const auto c0 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) {
      for (std::size_t i = 0; i < buffers.size(); ++i)
        requests[i] = world->start_allreduce_sum(buffers[i].data(), buffers[i].size() / 4, DType::f32);
      for (Communicator::Request r : requests) world->wait(r);
      world->allreduce_sum(&loss, 1, DType::f64);
    }
    comm_only = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
  }
  if (rank == 0) {
    const double ms = 1e3 / steps;
    std::printf("%s: %d rank(s) x %lld rows, %d BLAS thread(s): step %.3f ms", model.c_str(), ranks,
                static_cast<long long>(mo.batch), threads(), total * ms);
    if (timed) {
      const TimedCommunicator::Times& t = timed->times();
      std::printf("; per step: start %.3f ms (%zu calls), wait %.3f ms, loss allreduce %.3f ms; %.0f KiB reduced",
                  t.start_seconds * ms, t.starts / static_cast<std::size_t>(steps), t.wait_seconds * ms,
                  t.blocking_seconds * ms, static_cast<double>(t.bytes_reduced) / steps / 1024);
      std::printf("; the same reductions alone %.3f ms", comm_only * ms);
    }
    std::printf("\n");
  }
  return 0;
}
