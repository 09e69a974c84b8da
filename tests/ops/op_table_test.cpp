// The harness of the op-test table (op_table.hpp): one CTest test per op in
// graph/ops.def ("op table: <op>"), each running every row of that op through
// the same four checks, and one test that every op has rows.
#include "tests/ops/op_table.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <memory>
#include <random>

#include "frontends/json.hpp"
#include "passes/gradient_rules.hpp"
#include "passes/in_place.hpp"
#include "runtime/comm/thread_communicator.hpp"
#include "runtime/kernels.hpp"
#include "runtime/params.hpp"
#include "tests/frontends/json_round_trip.hpp"
#include "tests/passes/gradcheck.hpp"

using namespace kiln;
using namespace kiln::optable;

namespace {

// One row made into a graph of one dtype: the operand leaves x0, x1, ...,
// the node under test, and the values fed to the leaves.
struct RowGraph {
  Graph g;
  NodeId target = 0;
  std::vector<NodeId> leaves;
  std::map<NodeId, Tensor> fed;
};

// The row's operand values in double, drawn once per row so that the f32 and
// f64 runs read the same numbers (rounded for f32).
std::vector<std::vector<double>> draw_values(const OpRow& row, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<double>> all;
  for (const Operand& o : row.operands) {
    if (!o.values.empty()) {
      REQUIRE(o.values.size() == static_cast<std::size_t>(o.shape.numel()));
      all.push_back(o.values);
      continue;
    }
    REQUIRE(o.kind != LeafKind::labels);  // class ids must come with the row
    std::uniform_real_distribution<double> u(o.domain.lo, o.domain.hi);
    std::vector<double> v(static_cast<std::size_t>(o.shape.numel()));
    for (double& x : v) {
      x = u(rng);
      if (o.domain.either_sign && (rng() & 1)) x = -x;
    }
    all.push_back(std::move(v));
  }
  return all;
}

NodeId add_leaf(Graph& g, OpKind op, const Operand& o, DType dtype, Attrs attrs, const std::string& name) {
  if (o.kind == LeafKind::labels) {
    attrs.classes = o.classes;
    return g.add_explicit(OpKind::labels, {}, o.shape, DType::i32, attrs, name);
  }
  return g.add_explicit(op, {}, o.shape, dtype, attrs, name);
}

OpKind leaf_op(LeafKind k) { return k == LeafKind::param ? OpKind::param : OpKind::input; }

Attrs row_attrs(const OpRow& row) {
  Attrs a = defaults_for(row.op);
  if (row.attrs) row.attrs(a);
  return a;
}

RowGraph make_graph(const OpRow& row, const std::vector<std::vector<double>>& values, DType dtype) {
  RowGraph r;
  const Attrs attrs = row_attrs(row);
  auto tensor = [&](std::size_t k) {
    const Operand& o = row.operands[k];
    return Tensor::from_values(o.shape, o.kind == LeafKind::labels ? DType::i32 : dtype, values[k]);
  };
  if (op_info(row.op).is_leaf()) {
    // The leaf under test is the only node; with an operand, that is its value.
    if (row.operands.empty()) {
      r.target = r.g.add_explicit(row.op, {}, row.shape.value(), dtype, attrs, "y");
    } else {
      REQUIRE(row.operands.size() == 1);
      r.target = add_leaf(r.g, row.op, row.operands[0], dtype, attrs, "y");
      r.fed.emplace(r.target, tensor(0));
    }
    return r;
  }
  for (std::size_t k = 0; k < row.operands.size(); ++k) {
    const Operand& o = row.operands[k];
    NodeId id = add_leaf(r.g, leaf_op(o.kind), o, dtype, {}, "x" + std::to_string(k));
    r.leaves.push_back(id);
    r.fed.emplace(id, tensor(k));
  }
  if (row.build)
    r.target = row.build(r.g, BuildArgs{r.leaves, attrs, dtype, row.shape});
  else if (row.shape)
    r.target = r.g.add_explicit(row.op, r.leaves, *row.shape, dtype, attrs, "y");
  else
    r.target = r.g.add(row.op, r.leaves, attrs, "y");
  REQUIRE(r.g[r.target].op == row.op);
  return r;
}

// Runs every node of `rg.g` in creation order (a topological order) through
// kiln's kernels, bound as a plan binds them: fed leaves keep their values,
// unfed params start from their Init, get_output buffers are written by their
// producer, and the allreduce pairs share a slot on a communicator of one
// rank. With `alias_operand` = k the node under test writes its output over
// (a copy of) operand k's buffer. Returns the node under test's output.
Tensor run_forward(const RowGraph& rg, std::optional<int> alias_operand = std::nullopt) {
  const Graph& g = rg.g;
  ParamStore params;
  params.initialise(g, /*seed=*/3);
  std::vector<Tensor> buffers;
  for (NodeId id : g.ids()) {
    const Node& n = g[id];
    auto fed = rg.fed.find(id);
    if (fed != rg.fed.end())
      buffers.push_back(fed->second);
    else if (n.op == OpKind::param)
      buffers.push_back(params.get(n.name));
    else
      buffers.push_back(Tensor(n.shape, n.dtype));
  }
  static const std::shared_ptr<Communicator> one_rank = thread_communicators(1).at(0);
  std::vector<CollectiveSlot> slots(g.size(), CollectiveSlot{one_rank.get(), -1});

  std::vector<BoundKernel> calls;
  std::vector<TensorRef> operands, extra;
  std::vector<Tensor> unread;
  for (NodeId id : g.ids()) {
    const Node& n = g[id];
    if (rg.fed.count(id) || n.op == OpKind::param || n.op == OpKind::get_output) continue;
    const std::vector<NodeId> inputs = g.inputs(id);
    operands.clear();
    for (NodeId in : inputs) operands.push_back(buffers[in].ref());
    TensorRef out = buffers[id].ref();
    if (id == rg.target && alias_operand) {
      // The output buffer holds operand k's bytes, and operand k reads them there.
      const auto k = static_cast<std::size_t>(*alias_operand);
      const Tensor& operand = buffers[inputs[k]];
      REQUIRE(operand.bytes() == buffers[id].bytes());
      std::memcpy(buffers[id].raw(), operand.raw(), operand.bytes());
      operands[k] = TensorRef{buffers[id].raw(), &g[inputs[k]].shape, g[inputs[k]].dtype};
    }
    extra.clear();
    unread.clear();
    unread.reserve(n.extra_outputs.size());
    for (std::size_t k = 1; k <= n.extra_outputs.size(); ++k) {
      if (std::optional<NodeId> p = g.projection(id, static_cast<int>(k))) {
        extra.push_back(buffers[*p].ref());
      } else {
        const TensorType& t = n.extra_outputs[k - 1];
        extra.push_back(unread.emplace_back(t.shape, t.dtype).ref());
      }
    }
    calls.clear();
    bind_kernel(n.op, operands, out, n.attrs, calls, extra);
    for (BoundKernel& call : calls) {
      if (n.op == OpKind::allreduce_start) call.call.collective = &slots[id];
      if (n.op == OpKind::allreduce_wait) call.call.collective = &slots[inputs[0]];
      call.run();
    }
  }
  return buffers[rg.target];
}

double base_tolerance(DType dtype) { return dtype == DType::f32 ? 2e-5 : 1e-12; }

void check_forward(const OpRow& row, const std::vector<std::vector<double>>& values, DType dtype) {
  RowGraph rg = make_graph(row, values, dtype);
  const Tensor got = run_forward(rg);
  const Node& y = rg.g[rg.target];
  std::vector<std::vector<double>> in;
  std::vector<Shape> shapes;
  for (NodeId leaf : rg.leaves) {
    in.push_back(rg.fed.at(leaf).values());  // as rounded to the dtype
    shapes.push_back(rg.g[leaf].shape);
  }
  if (op_info(row.op).is_leaf() && !row.operands.empty()) {
    in.push_back(rg.fed.at(rg.target).values());
    shapes.push_back(y.shape);
  }
  const std::vector<double> want = row.reference(RefArgs{in, shapes, y.attrs, y.shape});
  INFO("forward in " << dtype_name(dtype) << ", output " << y.shape.str());
  REQUIRE(got.numel() == want.size());
  const double tol = base_tolerance(dtype) * row.tolerance;
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i << ": got " << got.get(i) << ", want " << want[i]);
    CHECK(std::abs(got.get(i) - want[i]) <= tol * (1.0 + std::abs(want[i])));
  }
}

// Autodiff's gradient of sum(y · R) (or of y itself when a scalar) with
// respect to every param operand, against central differences, in f64.
void check_gradient(const OpRow& row, const std::vector<std::vector<double>>& values) {
  RowGraph rg = make_graph(row, values, DType::f64);
  kiln::testing::Feeds feeds;
  std::vector<std::string> wrt;
  for (auto& [id, t] : rg.fed) feeds.emplace_back(rg.g[id].name, t);
  for (std::size_t k = 0; k < rg.leaves.size(); ++k)
    if (row.operands[k].kind == LeafKind::param) wrt.push_back(rg.g[rg.leaves[k]].name);
  if (wrt.empty()) return;  // nothing differentiable, e.g. a leaf
  const Node& y = rg.g[rg.target];
  if (y.shape.is_scalar()) {
    rg.g.set_loss(rg.target);
  } else {
    Attrs weights;
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(0.5, 1.5);
    for (std::int64_t i = 0; i < y.shape.numel(); ++i) weights.value.push_back((rng() & 1) ? u(rng) : -u(rng));
    NodeId r = rg.g.add_explicit(OpKind::constant, {}, y.shape, DType::f64, weights, "weights");
    NodeId weighted = rg.g.add(OpKind::mul, {rg.target, r}, {}, "weighted");
    rg.g.set_loss(rg.g.add(OpKind::sum, {weighted}, {}, "loss"));
  }
  kiln::testing::GradCheckResult result = kiln::testing::check_gradients(rg.g, feeds, wrt);
  INFO("gradient: worst at " << result.worst_where);
  CHECK(result.elements_checked > 0);
  CHECK(result.worst_relative_error <= 1e-6);
}

// The graph holding the node written as JSON and read back: node for node,
// attributes included (tests/frontends/json_round_trip.hpp).
void check_json_round_trip(const OpRow& row, const std::vector<std::vector<double>>& values, DType dtype) {
  RowGraph rg = make_graph(row, values, dtype);
  // A row that sets an attribute its op does not accept fails here: the
  // writer leaves such fields out.
  INFO("JSON round trip in " << dtype_name(dtype) << " (rows may set only the attributes their op accepts)");
  const std::string text = kiln::test::require_round_trip(rg.g);
  CHECK(text.find("\"" + std::string(op_name(row.op)) + "\"") != std::string::npos);
}

// Where the op's in-place rule (passes/in_place.hpp) lets its output
// overwrite operand k, doing so gives bit for bit what separate buffers give;
// so does an optimizer update's output over its operand 0, where the plan
// always binds it.
void check_in_place(const OpRow& row, const std::vector<std::vector<double>>& values, DType dtype) {
  RowGraph rg = make_graph(row, values, dtype);
  const Node& y = rg.g[rg.target];
  const std::vector<NodeId> inputs = rg.g.inputs(rg.target);
  std::optional<Tensor> separate;
  for (int k = 0; k < static_cast<int>(inputs.size()); ++k) {
    INFO("output over operand " << k << " in " << dtype_name(dtype));
    const Node& operand = rg.g[inputs[static_cast<std::size_t>(k)]];
    const bool same_bytes =
        operand.dtype == y.dtype &&
        (row.op == OpKind::reshape ? operand.shape.numel() == y.shape.numel() : operand.shape == y.shape);
    const bool overwrites = op_may_overwrite_operand(row.op, k) ||
                            (op_info(row.op).category == Category::update && k == 0);
    if (!overwrites || !same_bytes) continue;
    if (!separate) separate = run_forward(rg);
    const Tensor aliased = run_forward(rg, k);
    REQUIRE(aliased.bytes() == separate->bytes());
    for (std::size_t i = 0; i < aliased.numel(); ++i) {
      INFO("element " << i << ": in place " << aliased.get(i) << ", separate " << separate->get(i));
      CHECK(std::memcmp(static_cast<const std::byte*>(aliased.raw()) + i * dtype_size(dtype),
                        static_cast<const std::byte*>(separate->raw()) + i * dtype_size(dtype),
                        dtype_size(dtype)) == 0);
    }
  }
}

void check_rows_of(OpKind op) {
  const std::vector<OpRow>& table = op_table();
  std::size_t rows = 0;
  for (std::size_t index = 0; index < table.size(); ++index) {
    const OpRow& row = table[index];
    if (row.op != op) continue;
    ++rows;
    INFO("row '" << row.label << "' of " << op_name(op));
    const std::vector<std::vector<double>> values = draw_values(row, 1000 + index);
    for (DType dtype : {DType::f64, DType::f32}) {
      check_forward(row, values, dtype);
      check_json_round_trip(row, values, dtype);
      check_in_place(row, values, dtype);
    }
    if (has_gradient_rule(op)) check_gradient(row, values);
  }
  if (!has_gradient_rule(op)) {
    // Only ops that are never differentiated may lack a rule: leaves, the
    // backward helpers, updates, get_output, the collectives, and the fused
    // loss that carries its own gradient as output 1. A new forward op must
    // come with a gradient rule.
    const Category c = op_info(op).category;
    INFO(op_name(op) << " has no gradient rule");
    CHECK((c == Category::leaf || c == Category::gradient || c == Category::update || c == Category::projection ||
           c == Category::collective || op == OpKind::softmax_cross_entropy_with_grad));
  }
  if (rows == 0) FAIL("no op-table rows for '" << op_name(op) << "': add some to tests/ops/op_table_rows.cpp");
}

}  // namespace

// One test per op, generated from the op list itself, so a new op is a new
// test that fails until it has rows.
#define KILN_OP(name, ...) \
  TEST_CASE("op table: " #name, "[op_table]") { check_rows_of(OpKind::name); }
#include "graph/ops.def"
#undef KILN_OP

TEST_CASE("op table: every op in ops.def has rows", "[op_table]") {
  std::map<OpKind, std::size_t> rows;
  for (const OpRow& row : op_table()) ++rows[row.op];
  std::string missing;
  for (std::size_t i = 0; i < kOpCount; ++i) {
    const auto op = static_cast<OpKind>(i);
    if (!rows.count(op)) missing += (missing.empty() ? "" : ", ") + std::string(op_name(op));
  }
  INFO("ops without rows: " << missing);
  CHECK(missing.empty());
  CHECK(rows.size() == kOpCount);
}
