#pragma once
// Where a training run stands, stored in a checkpoint's metadata beside the
// params and optimizer state, so that a run resumed from it (even one
// interrupted mid-epoch) continues exactly where the first one stopped.
#include <cstdint>
#include <map>
#include <string>

#include "runtime/checkpoint.hpp"
#include "runtime/params.hpp"

namespace kiln::train {

struct TrainingState {
  std::int64_t epoch = 0;           // the epoch in progress (= epochs completed when batch_in_epoch is 0)
  std::int64_t batch_in_epoch = 0;  // steps of `epoch` already taken
  std::int64_t step = 0;            // steps taken since the first run began
  double epoch_loss_sum = 0;        // sum of the losses of those batch_in_epoch steps
};

// The metadata a training checkpoint holds: the state (loss sum exactly, as
// a hexadecimal float) plus `options`, free-form descriptions of the run
// (model, data, optimizer, seed, ...), each under its own key.
std::map<std::string, std::string> state_metadata(const TrainingState& state,
                                                  const std::map<std::string, std::string>& options);

// Reads the state back; throws kiln::Error naming `path` and the key when
// the metadata has no (or a malformed) training state.
TrainingState state_from_metadata(const std::map<std::string, std::string>& metadata, const std::string& path);

// Copies the params of a checkpoint into `params`, leaving out optimizer
// state ("opt/..."), which an evaluation plan has no use for. Every param of
// the store must be in the file with its shape and dtype; otherwise nothing
// is copied and the kiln::Error lists what differs, as load_checkpoint_into does.
void load_params_only(const Checkpoint& checkpoint, const std::string& path, ParamStore& params);

}  // namespace kiln::train
