#pragma once
#include <map>
#include <string>

#include "runtime/params.hpp"
#include "runtime/tensor.hpp"

namespace kiln {

// Checkpoints are safetensors files (docs/checkpoints.md): an 8-byte
// little-endian header length N, N bytes of JSON
//   {"__metadata__": {"key": "value"}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
// padded with spaces, then the raw little-endian bytes of every tensor,
// back to back. dtypes: F32 (f32), F64 (f64), I32 (i32).

// The tensors and free-form string metadata of one checkpoint file.
struct Checkpoint {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Writes every tensor of `params` (in sorted-name order) and `metadata` to
// `path`, atomically: the bytes go to a temporary file beside `path`, which
// is fsync()ed and renamed over `path`, then the directory is fsync()ed. On
// any failure (a full disk, a short write, an unwritable directory) the
// temporary is removed, a previous file at `path` is left as it was, and a
// kiln::Error names `path` and the OS's reason.
void save_checkpoint(const std::string& path, const ParamStore& params,
                     const std::map<std::string, std::string>& metadata = {});
// The same for tensors that are not in a store (e.g. a checkpoint read,
// edited and written back).
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// Reads a safetensors file with F32, F64 and I32 tensors. Refuses, with a
// kiln::Error naming the file and what was expected vs found, and before
// allocating anything the file's size does not justify: a file shorter than
// 8 bytes, a header length beyond the file or above 100 MB, a header that is
// not a JSON object, duplicate names, an unknown dtype, a shape that is not a
// list of positive integers (kiln has no empty tensors) or whose element
// count overflows 64 bits, data_offsets whose size disagrees with the shape
// and dtype or that leave the data section, tensors that overlap or leave
// gaps, and trailing bytes.
Checkpoint read_checkpoint(const std::string& path);

// Reads `path` and copies it into `params`: the file must hold exactly the
// store's tensors (params and optimizer state alike), each with its shape and
// dtype. Otherwise nothing is copied and the kiln::Error lists what differs:
//   checkpoint 'a.safetensors' does not match the model: missing fc3/W [200, 10];
//   unexpected out/W [100, 10]; fc1/W is [784, 50] in the file, [784, 100] in the model
// Metadata is not checked; read it with read_checkpoint.
void load_checkpoint_into(const std::string& path, ParamStore& params);

}  // namespace kiln
