#include "frontends/onnx/attach_loss.hpp"

#include "graph/error.hpp"

namespace kiln::onnx {

void attach_loss(Builder& b, Value output, const ImportOptions& options, const std::string& source) {
  if (options.loss == Loss::none) return;
  const std::string what = source + ": --loss " + std::string(loss_name(options.loss));
  if (b.graph().find(options.labels))
    throw Error(what + ": the model already has a node named '" + options.labels +
                "' for the labels; name them otherwise with --labels");
  if (b.graph().find("loss")) throw Error(what + ": the model already has a node named 'loss'");
  if (options.loss == Loss::mean_square) {
    Value target = b.input(options.labels, output.shape());
    Value error = sub(output, target, b.graph().unique_name("loss/error"));
    b.set_loss(mean(square(error, b.graph().unique_name("loss/square")), std::nullopt, "loss"));
    return;
  }
  if (output.shape().rank() != 2)
    throw Error(what + ": the output '" + output.name() + "' is " + output.shape().str() +
                "; a classifier's output is [rows, classes]");
  Value labels = b.labels(options.labels, output.shape()[0], output.shape()[1]);
  if (output.node().op == OpKind::softmax) b.set_loss(cross_entropy(output, labels, "loss"));
  else b.set_loss(softmax_cross_entropy(output, labels, "loss"));
}

}  // namespace kiln::onnx
