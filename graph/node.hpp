#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/dtype.hpp"
#include "graph/op.hpp"
#include "graph/shape.hpp"

namespace kiln {

// How a param is initialised. Fields that a kind does not use are ignored and
// are not written to JSON.
struct Init {
  enum class Kind { zeros, constant, normal, uniform, xavier, he };
  Kind kind = Kind::zeros;
  double value = 0.0;             // constant
  double mean = 0.0, std = 1.0;   // normal
  double low = 0.0, high = 1.0;   // uniform
  std::optional<std::uint64_t> seed;

  static Init zeros() { return {}; }
  static Init constant(double v) { Init i; i.kind = Kind::constant; i.value = v; return i; }
  static Init normal(double std, double mean = 0.0) { Init i; i.kind = Kind::normal; i.std = std; i.mean = mean; return i; }
  static Init uniform(double low, double high) { Init i; i.kind = Kind::uniform; i.low = low; i.high = high; return i; }
  static Init xavier() { Init i; i.kind = Kind::xavier; return i; }
  static Init he() { Init i; i.kind = Kind::he; return i; }

  friend bool operator==(const Init&, const Init&) = default;
};

std::string_view init_kind_name(Init::Kind k);
std::optional<Init::Kind> parse_init_kind(std::string_view s);

// The attributes of all ops in one plain struct; the op table says which ones
// an op reads (OpInfo::attrs).
struct Attrs {
  std::optional<int> axis;     // reductions: absent = all axes; softmax family: absent = last
  bool transpose_a = false;
  bool transpose_b = false;
  double factor = 1.0;         // scale
  std::int64_t classes = 0;    // labels
  Init init;                   // param
  std::vector<double> value;   // constant, row-major
  // optimizer updates (defaults are PyTorch's)
  double lr = 0.01;
  double momentum = 0.9;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  int index = 1;               // get_output: output 0 is the node itself, so 1 and up
  std::int64_t offset = 0;     // allreduce_slice: its first element in the operand

  friend bool operator==(const Attrs&, const Attrs&) = default;
};

// Which part of a training step a node belongs to; DOT colours by it.
enum class Role : std::uint8_t { forward, backward, update };
std::string_view role_name(Role r);

struct Node {
  std::string name;
  OpKind op = OpKind::input;
  Shape shape;
  DType dtype = DType::f32;
  Attrs attrs;
  Role role = Role::forward;
  // Outputs 1, 2, ... of a multi-output node (graph/shape_rules.hpp,
  // extra_outputs); empty for every other node. `shape` and `dtype` are
  // output 0, which consumers read directly; output k >= 1 is read through
  // the one get_output node with index k, which owns its buffer.
  std::vector<TensorType> extra_outputs;

  const OpInfo& info() const { return op_info(op); }
};

}  // namespace kiln
