#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/attrs.hpp"
#include "graph/dtype.hpp"
#include "graph/op.hpp"
#include "graph/shape.hpp"

namespace kiln {

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
