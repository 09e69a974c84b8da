#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "frontends/builder.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "passes/constant_eval.hpp"
#include "passes/simplify.hpp"

using namespace kiln;

namespace {

std::vector<std::string> input_names(const Graph& g, NodeId v) {
  std::vector<std::string> out;
  for (NodeId i : g.inputs(v)) out.push_back(g[i].name);
  return out;
}

Graph checked(const Graph& g) {
  verify(g);
  return g;
}

}  // namespace

TEST_CASE("algebra: each trivial identity collapses to its operand", "[simplify]") {
  struct Case {
    const char* rule;
    std::function<Value(Builder&, Value)> build;  // from x [2, 3] to a [2, 3] node named "r"
  };
  std::vector<Case> cases = {
      {"scale_by_one", [](Builder&, Value x) { return scale(x, 1.0, "r"); }},
      {"neg_neg", [](Builder&, Value x) { return neg(neg(x), "r"); }},
      {"add_n_of_one", [](Builder& b, Value x) { return b.op(OpKind::add_n, {x}, {}, "r"); }},
      {"mul_by_one", [](Builder& b, Value x) { return mul(x, b.constant("one", {3}, {1, 1, 1}), "r"); }},
      {"mul_by_one", [](Builder& b, Value x) { return mul(b.constant("one", {2, 3}, {1, 1, 1, 1, 1, 1}), x, "r"); }},
      {"add_zero", [](Builder& b, Value x) { return add(x, b.scalar(0.0), "r"); }},
      {"add_zero", [](Builder& b, Value x) { return add(b.constant("z", {2, 3}, std::vector<double>(6, 0.0)), x, "r"); }},
      {"sub_zero", [](Builder& b, Value x) { return sub(x, b.scalar(0.0), "r"); }},
      {"div_by_one", [](Builder& b, Value x) { return div(x, b.scalar(1.0), "r"); }},
  };
  for (const Case& c : cases) {
    INFO(c.rule);
    Builder b;
    auto x = b.param("x", {2, 3});
    auto r = c.build(b, x);
    b.set_loss(sum(r, std::nullopt, "loss"));
    PassStats stats;
    Graph out = checked(simplify_algebra(b.graph(), stats));
    CHECK(stats.count_of(c.rule) == 1);
    CHECK_FALSE(out.find("r"));
    CHECK(input_names(out, out.at("loss")) == std::vector<std::string>{"x"});
  }
}

TEST_CASE("algebra: rewrites that keep the node's name", "[simplify]") {
  Builder b;
  auto x = b.param("x", {2, 3});
  auto c = b.scalar(0.5);
  auto s = scale(scale(x, 3.0, "inner"), -2.0, "outer");
  auto m = mul(x, c, "times_half");
  b.set_loss(sum(add(s, m), std::nullopt, "loss"));
  PassStats stats;
  Graph out = checked(simplify_algebra(b.graph(), stats));
  CHECK(stats.count_of("scale_of_scale") == 1);
  CHECK(stats.count_of("mul_by_scalar_constant") == 1);
  NodeId o = out.at("outer");
  CHECK(out[o].attrs.factor == -6.0);
  CHECK(input_names(out, o) == std::vector<std::string>{"x"});
  NodeId t = out.at("times_half");
  CHECK(out[t].op == OpKind::scale);
  CHECK(out[t].attrs.factor == 0.5);
}

TEST_CASE("algebra: no rule for a broadcast operand, a pinned node or a different value", "[simplify]") {
  Builder b;
  auto v = b.param("v", {3});
  auto zeros = b.constant("zeros", {2, 3}, std::vector<double>(6, 0.0));
  auto widened = add(zeros, v, "widened");  // [2, 3], not v's shape
  auto kept = scale(widened, 1.0, "kept");
  auto almost = mul(kept, b.constant("almost_one", {3}, {1, 1, 1.5}), "almost");
  b.set_loss(sum(almost, std::nullopt, "loss"));
  PassStats stats;
  Graph out = checked(simplify_algebra(b.graph(), stats, PassOptions{{"kept"}}));
  CHECK(stats.fired.empty());
  CHECK(out.size() == b.graph().size());
}

// A scale's factor must be finite (graph/ops.def checks every node), so the
// rules that make one leave the graph as it is when the factor would not be.
TEST_CASE("algebra: no scale with a non-finite factor, from an inf constant or an overflowing product",
          "[simplify]") {
  Builder b;
  auto x = b.param("x", {2, 3}, Init::constant(1.0), DType::f64);
  auto by_inf = mul(x, b.constant("inf", {}, {HUGE_VAL}, DType::f64), "by_inf");
  auto twice = scale(scale(x, 1e200, "huge"), 1e200, "twice_huge");
  b.set_loss(sum(add(by_inf, twice), std::nullopt, "loss"));
  PassStats stats;
  Graph out = checked(simplify_algebra(b.graph(), stats));
  CHECK(stats.fired.empty());
  CHECK(out[out.at("by_inf")].op == OpKind::mul);
  CHECK(out[out.at("twice_huge")].op == OpKind::scale);
}

TEST_CASE("fold: constants in, a constant out, rounded to the dtype", "[simplify]") {
  Builder b;
  auto p = b.param("p", {2, 3});
  auto c = b.constant("c", {2, 3}, {1, 2, 3, 4, 5, 6});
  auto v = b.constant("v", {3}, {10, 20, 30});
  auto folded_sum = sum(add(c, v), 0, "col");
  auto third = scale(b.scalar(1.0), 1.0 / 3.0, "third");  // f32 rounding
  b.set_loss(sum(mul(p, add(scale(folded_sum, 1.0), third, "shifted")), std::nullopt, "loss"));
  PassStats stats;
  Graph out = checked(fold_constants(b.graph(), stats));
  CHECK(stats.count_of("fold") >= 3);
  const Node& col = out[out.at("col")];
  REQUIRE(col.op == OpKind::constant);
  CHECK(col.attrs.value == std::vector<double>{1 + 4 + 20, 2 + 5 + 40, 3 + 6 + 60});
  const Node& th = out[out.at("third")];
  REQUIRE(th.op == OpKind::constant);
  CHECK(th.attrs.value[0] == static_cast<double>(1.0f / 3.0f));
  CHECK(th.attrs.value[0] != 1.0 / 3.0);
}

TEST_CASE("fold: reductions, expand and the unary ops agree with direct computation", "[simplify]") {
  Node c;
  c.op = OpKind::constant;
  c.shape = Shape{2, 3};
  c.dtype = DType::f64;
  c.attrs.value = {1, -2, 3, -4, 5, -6};
  auto eval = [&](OpKind op, Shape out, Attrs attrs = {}, std::vector<const Node*> in = {}) {
    Node n;
    n.op = op;
    n.shape = std::move(out);
    n.dtype = DType::f64;
    n.attrs = std::move(attrs);
    if (in.empty()) in = {&c};
    return *evaluate_constant(n, in);
  };
  Attrs axis0, axis1;
  axis0.axis = 0;
  axis1.axis = -1;
  CHECK(eval(OpKind::sum, {3}, axis0) == std::vector<double>{-3, 3, -3});
  CHECK(eval(OpKind::mean, {2}, axis1) == std::vector<double>{2.0 / 3, -5.0 / 3});
  CHECK(eval(OpKind::sum, {}) == std::vector<double>{-3});
  CHECK(eval(OpKind::relu, {2, 3}) == std::vector<double>{1, 0, 3, 0, 5, 0});
  CHECK(eval(OpKind::l2, {}) == std::vector<double>{0.5 * 91});
  CHECK(eval(OpKind::square, {2, 3}) == std::vector<double>{1, 4, 9, 16, 25, 36});
  CHECK(eval(OpKind::tanh, {2, 3})[1] == std::tanh(-2.0));
  Node row;
  row.op = OpKind::constant;
  row.shape = Shape{3};
  row.dtype = DType::f64;
  row.attrs.value = {7, 8, 9};
  CHECK(eval(OpKind::expand, {2, 3}, axis0, {&row}) == std::vector<double>{7, 8, 9, 7, 8, 9});
  Attrs expand_cols;
  expand_cols.axis = 1;
  Node col = row;
  col.shape = Shape{2};
  col.attrs.value = {7, 8};
  CHECK(eval(OpKind::expand, {2, 3}, expand_cols, {&col}) == std::vector<double>{7, 7, 7, 8, 8, 8});
  CHECK(eval(OpKind::sub, {2, 3}, {}, {&c, &row}) == std::vector<double>{-6, -10, -6, -11, -3, -15});
  CHECK(eval(OpKind::add_n, {2, 3}, {}, {&c, &c, &c}) == std::vector<double>{3, -6, 9, -12, 15, -18});
  CHECK_FALSE(can_fold(OpKind::matmul));
  CHECK_FALSE(can_fold(OpKind::softmax_cross_entropy));
}

TEST_CASE("fold: not for ops that need a kernel, big results or non-finite values", "[simplify]") {
  Builder b;
  auto p = b.param("p", {2, 2});
  auto c = b.constant("c", {2, 2}, {1, 2, 3, 4});
  auto prod = matmul(c, c, false, false, "prod");
  auto zero_log = log(b.constant("zero", {2, 2}, {0, 1, 1, 1}), "zero_log");
  auto big = b.graph().add_explicit(OpKind::expand, {b.scalar(2.0).id()}, Shape{100, 100}, DType::f32, {}, "big");
  auto big_sum = sum(Value(&b, big), std::nullopt, "big_sum");
  b.set_loss(add(sum(mul(p, add(prod, zero_log))), big_sum, "loss"));
  PassStats stats;
  Graph out = checked(fold_constants(b.graph(), stats));
  CHECK(stats.count_of("fold") == 0);
  CHECK(out[out.at("prod")].op == OpKind::matmul);
  CHECK(out[out.at("zero_log")].op == OpKind::log);
  CHECK(out[out.at("big")].op == OpKind::expand);
}

TEST_CASE("cse: identical nodes merge into the first, leaves that are storage never do", "[simplify]") {
  Builder b;
  auto x = b.input("x", {2, 3});
  auto x_again = b.input("x_again", {2, 3});
  auto p = b.param("p", {2, 3});
  auto q = b.param("q", {2, 3});
  auto a1 = add(x, p, "a1");
  auto a2 = add(p, x, "a2");  // same shapes: commutative
  auto s1 = scale(a1, 2.0, "s1");
  auto s2 = scale(a2, 2.0, "s2");    // same as s1 once a2 is a1
  auto s3 = scale(a1, 3.0, "s3");    // other factor
  auto c1 = b.constant("c1", {}, {0.5});
  auto c2 = b.constant("c2", {}, {0.5});
  auto c3 = b.constant("c3", {}, {0.5}, DType::f64);
  auto m1 = mul(s1, c1, "m1");
  auto m2 = mul(s2, c2, "m2");
  auto xq1 = add(x_again, q, "xq1");
  auto xq2 = add(x_again, q, "xq2");
  (void)c3;
  b.set_loss(sum(add(add(m1, m2, "mm"), add(s3, add(xq1, xq2))), std::nullopt, "loss"));
  PassStats stats;
  Graph out = checked(eliminate_common_subexpressions(b.graph(), stats));
  CHECK(stats.count_of("cse") == 5);
  for (const char* gone : {"a2", "s2", "c2", "m2", "xq2"}) CHECK_FALSE(out.find(gone));
  for (const char* kept : {"x", "x_again", "p", "q", "a1", "s1", "s3", "c1", "c3", "m1", "xq1"}) CHECK(out.find(kept));
  auto ins = out.inputs(out.at("mm"));
  CHECK(ins[0] == out.at("m1"));
  CHECK(ins[1] == out.at("m1"));
}

TEST_CASE("cse: a merged loss or gradient moves to the survivor and pinned nodes stay", "[simplify]") {
  Builder b;
  auto p = b.param("p", {3});
  auto first = sum(square(p), std::nullopt, "first");
  auto loss = sum(square(p), std::nullopt, "loss");
  b.set_loss(add(first, loss, "total"));
  Graph g = b.graph();
  g.set_loss(g.at("loss"));
  g.set_gradient(g.at("p"), g.at("square_1"));
  PassStats stats;
  SECTION("merged") {
    Graph out = checked(eliminate_common_subexpressions(g, stats));
    CHECK(stats.count_of("cse") == 2);
    CHECK(out[*out.loss()].name == "first");
    CHECK(out[*out.gradient_of(out.at("p"))].name == "square");
  }
  SECTION("pinned by name") {
    Graph out = checked(eliminate_common_subexpressions(g, stats, PassOptions{{"loss"}}));
    CHECK(stats.count_of("cse") == 1);
    CHECK(out[*out.loss()].name == "loss");
  }
}

TEST_CASE("dce: keeps what the loss, gradients, updates and interface need", "[simplify]") {
  Builder b;
  auto x = b.input("x", {3});
  auto unused_input = b.input("unused", {3});
  auto p = b.param("p", {3});
  auto dead = exp(mul(x, p), "dead");
  auto upd = sub(p, scale(p, 0.1), "update");
  b.set_loss(sum(mul(x, p), std::nullopt, "loss"));
  Graph g = b.graph();
  g.set_role(g.at("update"), Role::update);
  PassStats stats;
  Graph out = checked(eliminate_dead_code(g, stats));
  CHECK(stats.count_of("dce") == 2);  // dead and the mul only it reads
  CHECK_FALSE(out.find("dead"));
  for (const char* kept : {"x", "unused", "p", "update", "loss"}) CHECK(out.find(kept));
  (void)dead;
  (void)upd;
  (void)unused_input;
}

TEST_CASE("dce: a forward-only graph keeps its sinks, or the nodes named as outputs", "[simplify]") {
  Builder b;
  auto x = b.input("x", {3});
  auto c = b.scalar(2.0);
  auto y1 = mul(x, c, "y1");
  auto y2 = exp(x, "y2");
  (void)y1;
  (void)y2;
  PassStats s1, s2;
  Graph all = checked(eliminate_dead_code(b.graph(), s1));
  CHECK(all.size() == b.graph().size());
  Graph named = checked(eliminate_dead_code(b.graph(), s2, PassOptions{{"y2"}}));
  CHECK(s2.count_of("dce") == 2);
  CHECK_FALSE(named.find("y1"));
  CHECK(named.find("y2"));
}

TEST_CASE("simplify: the weight-decay gradient folds to a scale of W", "[simplify]") {
  Builder b;
  auto x = b.input("x", {4, 2});
  auto w = b.param("W", {2, 3});
  auto y = b.labels("y", 4, 3);
  auto xent = softmax_cross_entropy(matmul(x, w), y);
  b.set_loss(add(xent, scale(l2(w), 1e-3), "loss"));
  Graph g = autodiff(b.graph());
  PassStats stats;
  Graph out = checked(simplify(g, stats));
  CHECK(stats.count_of("fold") == 1);
  CHECK(stats.count_of("mul_by_scalar_constant") == 1);
  CHECK(stats.count_of("dce") == 1);
  NodeId dw = *out.gradient_of(out.at("W"));
  REQUIRE(out[dw].op == OpKind::add_n);
  auto terms = out.inputs(dw);
  REQUIRE(terms.size() == 2);
  NodeId decay = out[terms[0]].op == OpKind::scale ? terms[0] : terms[1];
  CHECK(out[decay].op == OpKind::scale);
  CHECK(out[decay].attrs.factor == static_cast<double>(1e-3f));
  CHECK(out.inputs(decay) == std::vector<NodeId>{out.at("W")});
  CHECK(stats.nodes_after == stats.nodes_before - 1);
}

// Random small graphs over a few params and inputs, with deliberate
// duplicates and trivial algebra, differentiated: simplify must keep a
// valid graph whose loss and gradients are still there, shaped as before.
TEST_CASE("simplify on random graphs keeps the loss and every gradient", "[simplify]") {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 60; ++trial) {
    INFO("trial " << trial);
    Builder b;
    std::vector<Value> pool = {b.param("p0", {2, 3}), b.param("p1", {2, 3}), b.input("x", {2, 3}),
                               b.constant("ones", {2, 3}, std::vector<double>(6, 1.0)), b.scalar(0.0)};
    auto pick = [&](std::size_t limit) { return pool[rng() % limit]; };
    for (int k = 0; k < 12; ++k) {
      Value a = pick(pool.size() - 1);  // never the scalar as a first operand
      while (a.shape().is_scalar()) a = pick(pool.size());
      Value c = pick(pool.size());
      Value out;
      switch (rng() % 8) {
        case 0: out = add(a, c); break;
        case 1: out = mul(a, c); break;
        case 2: out = sub(a, c); break;
        case 3: out = scale(a, (rng() % 2) ? 1.0 : 0.5); break;
        case 4: out = neg(neg(a)); break;
        case 5: out = tanh(a); break;
        case 6: out = b.op(OpKind::add_n, {a}); break;
        default: out = add(a, a); break;
      }
      pool.push_back(out);
    }
    Value total = pool.back();
    for (std::size_t i = pool.size() - 4; i + 1 < pool.size(); ++i)
      if (!pool[i].shape().is_scalar()) total = add(total, pool[i]);
    b.set_loss(sum(add(mul(total, pool[0]), pool[1]), std::nullopt, "loss"));
    Graph g = autodiff(b.graph());
    PassStats stats;
    Graph out = simplify(g, stats);
    REQUIRE_NOTHROW(verify(out));
    REQUIRE(out.loss());
    CHECK(out[*out.loss()].shape.is_scalar());
    REQUIRE(out.gradients().size() == g.gradients().size());
    for (std::size_t i = 0; i < g.gradients().size(); ++i) {
      auto [of, grad] = g.gradients()[i];
      auto [new_of, new_grad] = out.gradients()[i];
      CHECK(out[new_of].name == g[of].name);
      CHECK(out[new_grad].shape == g[grad].shape);
    }
    CHECK(stats.nodes_after <= stats.nodes_before);
    // A second run finds nothing left to do.
    PassStats again;
    Graph twice = simplify(out, again);
    CHECK(again.fired.empty());
    CHECK(twice.size() == out.size());
  }
}
