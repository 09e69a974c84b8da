#pragma once
#include "frontends/onnx/onnx_model.hpp"

namespace kiln::onnx {

// Puts model.nodes in an order where every value is produced before it is
// read (ONNX requires files to be sorted already; a file that is not but has
// no cycle is accepted). Throws kiln::Error starting with model.source when a
// node reads a value nothing defines (naming the node and the value), when
// two nodes or a node and an initializer or input define the same value,
// when nodes form a cycle (naming a node on it), or when a graph output is
// never produced.
void order_nodes(Model& model);

}  // namespace kiln::onnx
