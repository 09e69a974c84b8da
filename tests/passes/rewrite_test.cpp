#include <catch2/catch.hpp>

#include "frontends/builder.hpp"
#include "graph/error.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "passes/rewrite.hpp"

using namespace kiln;

namespace {

// loss = sum(relu(scale(p, 2)) + x), differentiated: a forward part and a
// backward part with a recorded gradient.
Graph small_trained() {
  Builder b;
  auto x = b.input("x", {2, 3});
  auto p = b.param("p", {2, 3});
  auto s = scale(p, 2.0, "s");
  auto r = relu(s, "r");
  b.set_loss(sum(add(r, x, "a"), std::nullopt, "loss"));
  return autodiff(b.graph());
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a rewrite without decisions copies the graph exactly", "[rewrite]") {
  Graph g = small_trained();
  Graph out = Rewrite(g, "test").run();
  verify(out);
  REQUIRE(out.size() == g.size());
  for (NodeId v : g.ids()) {
    CHECK(out[v].name == g[v].name);
    CHECK(out[v].op == g[v].op);
    CHECK(out[v].shape == g[v].shape);
    CHECK(out[v].dtype == g[v].dtype);
    CHECK(out[v].role == g[v].role);
    CHECK(out[v].attrs == g[v].attrs);
    CHECK(out.inputs(v) == g.inputs(v));
  }
  CHECK(out.loss() == g.loss());
  CHECK(out.gradients() == g.gradients());
}

TEST_CASE("a replacement takes the name and role of the node it replaces", "[rewrite]") {
  Graph g = small_trained();
  Rewrite rw(g, "test");
  NodeId r = g.at("r"), s = g.at("s");
  // relu(scale(p, 2)) written as scale(relu(p), 2) is the same value.
  NodeId p = g.at("p");
  Attrs two;
  two.factor = 2.0;
  rw.replace(s, OpKind::relu, {p});
  rw.replace(r, OpKind::scale, {s}, two);
  Graph out = rw.run();
  verify(out);
  CHECK(out[out.at("s")].op == OpKind::relu);
  CHECK(out[out.at("r")].op == OpKind::scale);
  CHECK(out[out.at("r")].attrs.factor == 2.0);
  CHECK(out[out.at("r")].role == Role::forward);
  CHECK(out[*out.loss()].name == "loss");
  CHECK(out[*out.gradient_of(out.at("p"))].name == "grad/p");
}

TEST_CASE("forwarding points readers at the survivor, which takes over the loss and gradient roles", "[rewrite]") {
  Builder b;
  auto p = b.param("p", {3});
  auto q = scale(p, 1.0, "q");
  auto l1 = sum(q, std::nullopt, "first");
  auto l2 = sum(q, std::nullopt, "loss");
  auto twice = add(l1, l2, "twice");
  b.set_loss(l2);
  Graph g = b.graph();
  g.set_gradient(g.at("p"), g.at("q"));  // not a true gradient: only the bookkeeping matters here
  Rewrite rw(g, "test");
  rw.forward(g.at("q"), g.at("p"));
  rw.forward(g.at("loss"), g.at("first"));
  Graph out = rw.run();
  verify(out);
  CHECK_FALSE(out.find("q"));
  CHECK_FALSE(out.find("loss"));
  CHECK(out[*out.loss()].name == "first");
  CHECK(out[*out.gradient_of(out.at("p"))].name == "p");
  auto ins = out.inputs(out.at("twice"));
  CHECK(out[ins[0]].name == "first");
  CHECK(out[ins[1]].name == "first");
  CHECK(out.inputs(out.at("first")) == std::vector<NodeId>{out.at("p")});
  (void)twice;
}

TEST_CASE("mistaken decisions are internal errors naming the pass and the nodes", "[rewrite]") {
  Graph g = small_trained();
  SECTION("reading a dropped node") {
    Rewrite rw(g, "mypass");
    rw.drop(g.at("s"));
    std::string msg = error_of([&] { rw.run(); });
    CHECK(msg.find("mypass: internal error") != std::string::npos);
    CHECK(msg.find("'r'") != std::string::npos);
    CHECK(msg.find("'s'") != std::string::npos);
  }
  SECTION("dropping the loss") {
    Rewrite rw(g, "mypass");
    rw.drop(g.at("loss"));
    for (NodeId v : g.ids())
      if (g[v].role == Role::backward) rw.drop(v);
    CHECK(error_of([&] { rw.run(); }).find("is the loss but was dropped") != std::string::npos);
  }
  SECTION("a survivor that comes later") {
    Rewrite rw(g, "mypass");
    CHECK(error_of([&] { rw.forward(g.at("s"), g.at("r")); }).find("not earlier") != std::string::npos);
  }
  SECTION("a survivor of another shape") {
    Rewrite rw(g, "mypass");
    CHECK(error_of([&] { rw.forward(g.at("loss"), g.at("x")); }).find("[2, 3]") != std::string::npos);
  }
  SECTION("a replacement of another shape") {
    Rewrite rw(g, "mypass");
    rw.replace(g.at("r"), OpKind::sum, {g.at("s")});
    CHECK(error_of([&] { rw.run(); }).find("instead of [2, 3]") != std::string::npos);
  }
  SECTION("two decisions for one node") {
    Rewrite rw(g, "mypass");
    rw.drop(g.at("r"));
    CHECK(error_of([&] { rw.drop(g.at("r")); }).find("two decisions") != std::string::npos);
  }
}

TEST_CASE("observe pins what is read by name and marks what is read through a role", "[rewrite]") {
  Graph g = small_trained();
  g.set_role(g.at("a"), Role::update);
  Observers o = observe(g, {"s", "no_such_node"});
  CHECK(o.pinned[g.at("s")]);
  CHECK(o.pinned[g.at("p")]);  // differentiated
  CHECK(o.pinned[g.at("a")]);  // update
  CHECK_FALSE(o.pinned[g.at("r")]);
  CHECK(o.role[*g.loss()]);
  CHECK(o.role[*g.gradient_of(g.at("p"))]);
  CHECK_FALSE(o.role[g.at("p")]);
  CHECK_FALSE(o.any(g.at("r")));
}
