#pragma once
#include "runtime/comm/communicator.hpp"
#include "runtime/params.hpp"

namespace kiln {

// Copies every tensor of `params` (the params and the optimizer state a
// training plan added, "opt/...") from rank `root` to every other rank, so
// that all ranks start from one state: at the start of training, and after
// rank `root` alone loaded a checkpoint. Every rank must hold the same names
// with the same shapes and dtypes (stores of plans compiled from one graph
// with one optimizer); when they do not, every rank throws kiln::Error saying
// so, before any value is copied. Collective: every rank calls it.
void broadcast_params(Communicator& comm, ParamStore& params, int root = 0);

}  // namespace kiln
