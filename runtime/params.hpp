#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.hpp"
#include "runtime/tensor.hpp"

namespace kiln {

// The persistent tensors of training: one per `param` node, by name (and any
// optimizer state a plan adds). Tensors keep their storage for the life of
// the store: set() and initialise() copy into it, so pointers bound into a
// plan stay valid. Shared by the plans compiled from one model (e.g. training
// and evaluation with another batch size).
class ParamStore {
 public:
  // (Re)initialises every param of `g` from its Init, creating tensors that
  // do not exist yet. Each param draws from its own stream derived from
  // (init.seed if given, else `seed`) and a hash of its name, so adding a
  // param never changes the values of the others. Throws kiln::Error naming
  // the param when the store already holds it with another shape or dtype.
  void initialise(const Graph& g, std::uint64_t seed);

  bool contains(std::string_view name) const { return tensors_.find(name) != tensors_.end(); }
  // Throws kiln::Error "no parameter named 'x'" when absent.
  Tensor& get(std::string_view name);
  const Tensor& get(std::string_view name) const;
  // Copies `value` into param `name`; throws kiln::Error naming the param,
  // the expected and the found shape/dtype when they differ.
  void set(std::string_view name, const Tensor& value);
  // Adds a zero tensor (e.g. optimizer state); throws when `name` is taken.
  Tensor& add(std::string name, Shape shape, DType dtype);

  // Names in sorted order.
  std::vector<std::string> names() const;
  std::size_t size() const { return tensors_.size(); }

 private:
  std::map<std::string, Tensor, std::less<>> tensors_;
};

// The fan-in and fan-out xavier and he use: [in, out] for a 2-D weight;
// both equal the length of a 1-D param, both 1 for a scalar; for higher
// ranks fan-out is the last dimension and fan-in the product of the others.
struct Fans {
  double in = 1, out = 1;
};
Fans fans_of(const Shape& shape);

// The initial value of one param node, drawn from the stream described at
// ParamStore::initialise, or for a file init its values (converted to the
// param's dtype). Throws kiln::Error naming the node if its Init is unusable
// (negative std, low > high, file values of another count).
Tensor initial_value(const Node& param, std::uint64_t seed);

}  // namespace kiln
