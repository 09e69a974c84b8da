#include "frontends/train/checkpoint_state.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "graph/error.hpp"

namespace kiln::train {
namespace {

bool is_optimizer_state(const std::string& name) { return name.rfind("opt/", 0) == 0; }

std::int64_t read_count(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
  auto it = m.find(key);
  std::int64_t v = -1;
  if (it != m.end()) {
    const std::string& s = it->second;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) v = -1;
  }
  if (v < 0)
    throw Error("checkpoint '" + path + "': metadata '" + key + "' " +
                (it == m.end() ? "is missing" : "is '" + it->second + "', expected a count") +
                " (was it written by kiln train?)");
  return v;
}

}  // namespace

std::map<std::string, std::string> state_metadata(const TrainingState& state,
                                                  const std::map<std::string, std::string>& options) {
  std::map<std::string, std::string> m = options;
  char hex[64];
  std::snprintf(hex, sizeof hex, "%a", state.epoch_loss_sum);
  m["epoch"] = std::to_string(state.epoch);
  m["batch_in_epoch"] = std::to_string(state.batch_in_epoch);
  m["step"] = std::to_string(state.step);
  m["epoch_loss_sum"] = hex;
  return m;
}

TrainingState state_from_metadata(const std::map<std::string, std::string>& metadata, const std::string& path) {
  TrainingState s;
  s.epoch = read_count(metadata, "epoch", path);
  s.batch_in_epoch = read_count(metadata, "batch_in_epoch", path);
  s.step = read_count(metadata, "step", path);
  auto it = metadata.find("epoch_loss_sum");
  if (it == metadata.end()) throw Error("checkpoint '" + path + "': metadata 'epoch_loss_sum' is missing");
  char* end = nullptr;
  errno = 0;
  s.epoch_loss_sum = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || *end != '\0' || errno == ERANGE)
    throw Error("checkpoint '" + path + "': metadata 'epoch_loss_sum' is '" + it->second + "', expected a number");
  return s;
}

void load_params_only(const Checkpoint& checkpoint, const std::string& path, ParamStore& params) {
  std::string missing, mismatched;
  for (const std::string& name : params.names()) {
    if (is_optimizer_state(name)) continue;
    const Tensor& mine = params.get(name);
    auto it = checkpoint.tensors.find(name);
    if (it == checkpoint.tensors.end()) {
      missing += (missing.empty() ? "" : ", ") + name + " " + mine.shape().str();
    } else if (it->second.shape() != mine.shape() || it->second.dtype() != mine.dtype()) {
      mismatched += (mismatched.empty() ? "" : "; ") + name + " is " + it->second.type_str() + " in the file, " +
                    mine.type_str() + " in the model";
    }
  }
  std::string unexpected;
  for (const auto& [name, tensor] : checkpoint.tensors)
    if (!is_optimizer_state(name) && !params.contains(name))
      unexpected += (unexpected.empty() ? "" : ", ") + name + " " + tensor.shape().str();
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::string why;
    if (!missing.empty()) why += "missing " + missing;
    if (!unexpected.empty()) why += (why.empty() ? "" : "; ") + std::string("unexpected ") + unexpected;
    if (!mismatched.empty()) why += (why.empty() ? "" : "; ") + mismatched;
    throw Error("checkpoint '" + path + "' does not match the model: " + why);
  }
  for (const std::string& name : params.names())
    if (!is_optimizer_state(name)) params.set(name, checkpoint.tensors.at(name));
}

}  // namespace kiln::train
