#pragma once
// The loss `kiln import --loss` appends over an imported graph's output.
#include "frontends/builder.hpp"
#include "frontends/onnx/import_options.hpp"

namespace kiln::onnx {

// Sets b's loss ("loss") over `output`:
//   softmax_cross_entropy  labels node options.labels, [rows] with the
//                          output's [rows, classes]; over a Softmax output
//                          (probabilities already), cross_entropy instead
//   mean_square            mean(square(output - target)), the target an
//                          `input` named options.labels of the output's shape
//   none                   nothing
// Throws kiln::Error starting with `source` when the output does not fit the
// loss (a classification output must be [rows, classes]) or the labels'
// name is taken.
void attach_loss(Builder& b, Value output, const ImportOptions& options, const std::string& source);

}  // namespace kiln::onnx
