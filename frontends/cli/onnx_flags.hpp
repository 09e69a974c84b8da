#pragma once
// The options of an ONNX import that `kiln import`, `kiln train` and
// `kiln grad` share (frontends/onnx/import_options.hpp).
#include <CLI/CLI.hpp>

#include <string>

#include "frontends/onnx/import_options.hpp"

namespace kiln::cli {

struct OnnxFlags {
  std::string loss = "softmax_cross_entropy";
  std::string labels = "y";
  std::optional<std::int64_t> batch;

  onnx::ImportOptions options() const {
    onnx::ImportOptions out;
    out.loss = onnx::parse_loss(loss);
    out.labels = labels;
    out.batch = batch;
    return out;
  }
};

// --loss and --labels; --batch too when `with_batch` (kiln train has its own).
inline void add_onnx_flags(CLI::App* cmd, OnnxFlags& flags, bool with_batch) {
  cmd->add_option("--loss", flags.loss,
                  "an .onnx model's loss over its output: softmax_cross_entropy (against class labels), mean_square "
                  "(against a target of the output's shape) or none")
      ->type_name("LOSS")
      ->check(CLI::IsMember({"softmax_cross_entropy", "mean_square", "none"}))
      ->capture_default_str();
  cmd->add_option("--labels", flags.labels, "an .onnx model's labels (or target) node name")
      ->type_name("NAME")
      ->capture_default_str();
  if (with_batch)
    cmd->add_option("--batch", flags.batch,
                    "an .onnx model's batch: the leading dimension of every input (a symbolic one is 1 otherwise)")
        ->type_name("N")
        ->check(CLI::PositiveNumber);
}

}  // namespace kiln::cli
