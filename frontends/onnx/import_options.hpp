#pragma once
// What `kiln import` and every command reading an .onnx file can set.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::onnx {

enum class Loss { softmax_cross_entropy, mean_square, none };

struct ImportOptions {
  // What to minimise over the graph's output: softmax_cross_entropy against
  // integer class labels (cross_entropy when the output already is a
  // Softmax), mean_square against a target input of the output's shape
  // (PyTorch's MSELoss: the mean over all elements), or none.
  Loss loss = Loss::softmax_cross_entropy;
  std::string labels = "y";  // the labels / target node's name
  // The leading (batch) dimension of every graph input; needed when the
  // file leaves it symbolic (absent: 1).
  std::optional<std::int64_t> batch;
  // Where the params' values are written, relative to the graph file;
  // absent: "<model stem>.safetensors".
  std::string params_file;
};

// "softmax_cross_entropy", "mean_square" or "none" to a Loss; anything else
// is a kiln::Error listing these.
Loss parse_loss(std::string_view text);
std::string_view loss_name(Loss loss);

}  // namespace kiln::onnx
