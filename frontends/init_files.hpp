#pragma once
// The tensor files a graph's `{"kind": "file"}` inits read (GRAPH_FORMAT.md):
// a named tensor of a safetensors file, or the one array of a .npy file,
// read through runtime/'s readers when the graph is read.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/dtype.hpp"
#include "graph/shape.hpp"
#include "runtime/checkpoint.hpp"

namespace kiln {

class InitFileReader {
 public:
  // Relative init paths resolve against `base_directory` (the graph file's
  // folder; empty: the current directory).
  explicit InitFileReader(std::filesystem::path base_directory = {});

  // The row-major values of `tensor` in `path` (a .safetensors file; for a
  // .npy file `tensor` must be empty), which must be `dtype` `shape`.
  // Throws kiln::Error naming the init file, the tensor and what differs: a
  // missing or unreadable file, a malformed one, an absent tensor (listing
  // the names the file has), another shape or dtype. The caller prefixes
  // the graph file and the node. A safetensors file is read once per reader
  // however many params name it.
  std::vector<double> read(const std::string& path, const std::string& tensor, const Shape& shape, DType dtype);

 private:
  const Checkpoint& safetensors(const std::filesystem::path& file, const std::string& label);

  std::filesystem::path base_;
  std::map<std::filesystem::path, std::unique_ptr<const Checkpoint>> files_;
};

// True for the file names an init may read: ".safetensors" (holding named
// tensors) and ".npy" (one array).
bool is_safetensors_path(const std::string& path);
bool is_npy_path(const std::string& path);

}  // namespace kiln
