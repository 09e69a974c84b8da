#include "frontends/init_files.hpp"

#include <system_error>

#include "graph/error.hpp"
#include "runtime/npy.hpp"

namespace kiln {
namespace {

namespace fs = std::filesystem;

bool has_extension(const std::string& path, const char* extension) {
  return fs::path(path).extension() == extension;
}

// "init file 'mlp.safetensors'", with the resolved path when it differs.
std::string describe_file(const std::string& written, const fs::path& resolved) {
  std::string s = "init file '" + written + "'";
  if (resolved.string() != written) s += " (" + resolved.string() + ")";
  return s;
}

// At most 20 names, so that a file of thousands of tensors gives one line.
std::string name_list(const std::map<std::string, Tensor>& tensors) {
  std::string s;
  std::size_t shown = 0;
  for (const auto& [name, t] : tensors) {
    if (shown == 20) return s + ", ... (" + std::to_string(tensors.size()) + " in all)";
    s += (shown++ ? ", " : "") + name;
  }
  return s.empty() ? "no tensors" : s;
}

}  // namespace

bool is_safetensors_path(const std::string& path) { return has_extension(path, ".safetensors"); }
bool is_npy_path(const std::string& path) { return has_extension(path, ".npy"); }

InitFileReader::InitFileReader(fs::path base_directory) : base_(std::move(base_directory)) {}

const Checkpoint& InitFileReader::safetensors(const fs::path& file, const std::string& label) {
  auto found = files_.find(file);
  if (found != files_.end()) return *found->second;
  std::unique_ptr<const Checkpoint> read;
  try {
    read = std::make_unique<const Checkpoint>(read_checkpoint(file.string()));
  } catch (const Error& e) {
    throw Error(label + ": " + e.what());
  }
  return *files_.emplace(file, std::move(read)).first->second;
}

std::vector<double> InitFileReader::read(const std::string& path, const std::string& tensor, const Shape& shape,
                                         DType dtype) {
  const fs::path resolved = fs::path(path).is_absolute() || base_.empty() ? fs::path(path) : base_ / path;
  std::string label = describe_file(path, resolved);
  if (!tensor.empty()) label += ", tensor '" + tensor + "'";
  // A device or a pipe could block the reader or never end: only plain files.
  std::error_code ec;
  const fs::file_status status = fs::status(resolved, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) throw Error(label + ": cannot access it: " + ec.message());
  if (!fs::exists(status)) throw Error(label + ": no such file");
  if (!fs::is_regular_file(status)) throw Error(label + ": expected a regular file, found another kind of file");

  const Tensor* values = nullptr;
  Tensor from_npy;
  if (is_safetensors_path(path)) {
    const Checkpoint& file = safetensors(resolved, label);
    auto it = file.tensors.find(tensor);
    if (it == file.tensors.end())
      throw Error(label + ": the file has no tensor of that name; it holds " + name_list(file.tensors));
    values = &it->second;
  } else {
    try {
      from_npy = read_npy(resolved.string());
    } catch (const Error& e) {
      throw Error(label + ": " + e.what());
    }
    values = &from_npy;
  }
  if (values->shape() != shape || values->dtype() != dtype)
    throw Error(label + ": expected " + type_str(shape, dtype) + " like the param, found " + values->type_str());
  return values->values();
}

}  // namespace kiln
