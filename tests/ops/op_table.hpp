#pragma once
// The op-test table (DESIGN.md, "One op-test table"; ggml's
// tests/test-backend-ops.cpp): each row is one op under one shape and
// attribute set, with a plain-loop f64 reference of its output. The harness
// (op_table_test.cpp) checks every row the same way: the forward in f64 and
// f32 against the reference, the gradient against central differences in f64
// where the op has a gradient rule, the JSON round trip, and in-place
// aliasing where the kernel allows it. A new op adds rows to
// op_table_rows.cpp and writes no harness; an op in graph/ops.def without a
// row fails the suite.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "tests/passes/gradcheck.hpp"

namespace kiln::optable {

using kiln::testing::Domain;

// How an operand leaf enters the graph. A `param` is persistent and, for an
// op with a gradient rule, differentiated; an `input` is fed and never
// differentiated (targets, incoming gradients); `labels` are i32 class ids.
enum class LeafKind { param, input, labels };

struct Operand {
  Shape shape;
  LeafKind kind = LeafKind::param;
  // Random values are drawn from `domain` (seeded per row) unless `values`
  // gives them; labels always need `values` (their class ids).
  Domain domain = Domain::any();
  std::vector<double> values;
  std::int64_t classes = 0;  // labels
};

// A param (differentiated) with random values in `d`, or with `values`.
Operand param(Shape s, Domain d = Domain::any());
Operand param(Shape s, std::vector<double> values);
// A fed, non-differentiated float operand.
Operand input(Shape s, Domain d = Domain::any());
Operand input(Shape s, std::vector<double> values);
// i32 class ids in [0, classes), one per row.
Operand labels(std::int64_t classes, std::vector<double> ids);

// What a reference sees: each operand's values (as read back from the
// tensor the kernel reads, so an f32 run is compared with the exact result
// for its rounded inputs), their shapes, the attributes and the output shape.
struct RefArgs {
  std::vector<std::vector<double>> in;
  std::vector<Shape> shapes;
  const Attrs& attrs;
  Shape out;
};
// Output 0 of the node under test, in row-major order, computed in double
// with plain loops that share no code with kiln's kernels.
using Reference = std::function<std::vector<double>(const RefArgs&)>;

// Makes the node under test when a plain `g.add(op, leaves, attrs, "y")` is
// not enough: a multi-output producer for get_output, an allreduce_start for
// allreduce_wait. It must return a node of the row's op; the other nodes it
// adds run too, in creation order.
struct BuildArgs {
  const std::vector<NodeId>& leaves;  // the operands, named x0, x1, ...
  const Attrs& attrs;
  DType dtype;                 // of the float leaves
  std::optional<Shape> shape;  // OpRow::shape
};
using Build = std::function<NodeId(Graph& g, const BuildArgs& args)>;

// A leaf op's row has either one operand, the value the leaf itself is fed,
// or none and a `shape`: a param then starts from attrs.init, a constant
// writes attrs.value.
struct OpRow {
  OpKind op;
  std::string label;
  std::vector<Operand> operands;
  Reference reference;
  std::function<void(Attrs&)> attrs = nullptr;
  // The explicit output shape of ops that take one (expand, allreduce_slice,
  // leaves without a fed value).
  std::optional<Shape> shape = std::nullopt;
  Build build = nullptr;
  // Scales the per-dtype forward tolerance (f64 1e-12, f32 2e-5, relative to
  // 1 + |want|): above 1 for sums of many rounded terms (GEMM: 4·√k), 0 for
  // ops that only move or negate bits and so must match exactly.
  double tolerance = 1.0;
};

// Every row, in a fixed order (the order seeds each row's random values).
const std::vector<OpRow>& op_table();

}  // namespace kiln::optable
