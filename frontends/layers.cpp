#include "frontends/layers.hpp"

#include "graph/error.hpp"

namespace kiln {

Value dense(Builder& g, Value x, std::int64_t units, const std::string& name, Init w_init, Init b_init) {
  if (x.shape().rank() != 2)
    throw Error("dense layer '" + name + "': expected a [rows, features] input, found '" + x.name() + "' " +
                x.shape().str());
  auto scope = g.scope(name);
  DType t = x.node().dtype;
  Value w = g.param("W", Shape{x.shape()[1], units}, w_init, t);
  Value b = g.param("b", Shape{units}, b_init, t);
  return add(matmul(x, w), b);
}

}  // namespace kiln
