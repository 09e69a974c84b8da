#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "../cli/process.hpp"
#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "graph/dot.hpp"
#include "graph/error.hpp"

using namespace kiln;
using kiln::test::TempDir;

namespace {

// Graphviz's own reading of a DOT text, as its JSON output: the independent
// reference for what the text means. Null when graphviz is not installed.
struct GraphvizResult {
  int exit_code = -1;
  std::string err;
  std::string out;
  nlohmann::json json() const { return nlohmann::json::parse(out); }
};

std::optional<GraphvizResult> run_graphviz(const std::string& dot_text, const std::string& format) {
  std::string dot = kiln::test::graphviz_dot();
  if (dot.empty()) return std::nullopt;
  TempDir dir;
  kiln::test::write_text(dir / "g.dot", dot_text);
  auto r = kiln::test::run_program(dot, {"-T" + format, (dir / "g.dot").string()}, dir.path());
  return GraphvizResult{r.exit_code, r.err, r.out};
}

// name -> DOT node id (e.g. "n3"), taken from graphviz's view of the picture.
struct Parsed {
  std::map<std::string, std::string> object_by_gvid;  // "_gvid" of every object -> its DOT name
  std::set<std::tuple<std::string, std::string, std::string>> edges;  // tail, head, label
  std::map<std::string, std::string> label_of;                        // DOT node name -> label
  std::map<std::string, std::set<std::string>> cluster_members;      // cluster label -> DOT names
};

Parsed parse(const nlohmann::json& j) {
  Parsed p;
  for (const auto& o : j.at("objects")) p.object_by_gvid[std::to_string(o.at("_gvid").get<int>())] = o.at("name");
  for (const auto& o : j.at("objects")) {
    if (!o.contains("nodes")) p.label_of[o.at("name")] = o.value("label", "");  // clusters list their nodes
    if (o.contains("nodes"))
      for (const auto& n : o.at("nodes")) p.cluster_members[o.value("label", "")].insert(p.object_by_gvid.at(std::to_string(n.get<int>())));
  }
  if (j.contains("edges"))
    for (const auto& e : j.at("edges"))
      p.edges.emplace(p.object_by_gvid.at(std::to_string(e.at("tail").get<int>())),
                      p.object_by_gvid.at(std::to_string(e.at("head").get<int>())), e.value("label", ""));
  return p;
}

std::string dot_name(NodeId id) { return std::string("n").append(std::to_string(id)); }

Graph mlp() {
  Builder g;
  auto x = g.input("x", {32, 64});
  auto y = g.labels("y", 32, 10);
  auto h = relu(dense(g, x, 16, "fc1"), "h");
  auto logits = dense(g, h, 10, "fc2");
  g.set_loss(softmax_cross_entropy(logits, y, "loss"));
  return g.graph();
}

// The text of the DOT statement that declares node `id`.
std::string node_statement(const std::string& dot, NodeId id) {
  std::string head = dot_name(id) + " [label=";
  auto at = dot.find(head);
  if (at == std::string::npos) return "";
  return dot.substr(at, dot.find('\n', at) - at);
}

}  // namespace

TEST_CASE("to_dot draws every node once and one edge per operand, labelled by operand index", "[graph][dot]") {
  Graph g = mlp();
  std::string text = to_dot(g);
  auto gv = run_graphviz(text, "json");
  if (!gv) {
    WARN("SKIPPED: graphviz's dot is not installed (apt-get install graphviz); cannot check the DOT text");
    return;
  }
  REQUIRE(gv->exit_code == 0);
  CHECK(gv->err.empty());
  Parsed p = parse(gv->json());

  std::set<std::tuple<std::string, std::string, std::string>> expected;
  for (NodeId id : g.ids()) {
    CHECK(p.label_of.count(dot_name(id)) == 1);
    CHECK_THAT(p.label_of[dot_name(id)], Catch::Contains("<B>" + g[id].name + "</B>"));
    auto operands = g.inputs(id);
    for (std::size_t k = 0; k < operands.size(); ++k)
      expected.emplace(dot_name(operands[k]), dot_name(id), operands.size() > 1 ? std::to_string(k) : "");
  }
  CHECK(p.edges == expected);
  CHECK(p.label_of.count("legend") == 1);
  // The legend plus the graph's nodes, nothing else.
  CHECK(p.label_of.size() == g.size() + 1);
}

TEST_CASE("to_dot labels show op, shape, dtype only when not f32, attributes and the loss", "[graph][dot]") {
  Builder b;
  auto x = b.input("x", {4, 3}, DType::f64);
  auto w = b.param("W", {5, 3}, Init::he(), DType::f64);
  auto y = b.labels("y", 4, 5);
  auto z = matmul(x, w, false, true, "z");
  auto s = scale(z, 0.5, "half");
  b.set_loss(softmax_cross_entropy(s, y, "loss"));
  const Graph& g = b.graph();
  std::string text = to_dot(g);

  CHECK_THAT(node_statement(text, z.id()), Catch::Contains("matmul [4, 5] f64"));
  CHECK_THAT(node_statement(text, z.id()), Catch::Contains("transpose_b"));
  CHECK_THAT(node_statement(text, z.id()), !Catch::Contains("transpose_a"));
  CHECK_THAT(node_statement(text, s.id()), Catch::Contains("factor=0.5"));
  CHECK_THAT(node_statement(text, y.id()), Catch::Contains("labels [4] i32"));
  CHECK_THAT(node_statement(text, y.id()), Catch::Contains("classes=5"));
  CHECK_THAT(node_statement(text, w.id()), Catch::Contains("init=he"));
  auto loss = *g.loss();
  CHECK_THAT(node_statement(text, loss), Catch::Contains("softmax_cross_entropy [] f64"));
  CHECK_THAT(node_statement(text, loss), Catch::Contains("<I>loss</I>"));
  CHECK_THAT(node_statement(text, loss), Catch::Contains("BORDER=\"3\""));
  CHECK_THAT(node_statement(text, z.id()), Catch::Contains("BORDER=\"1\""));

  Builder f32;
  auto a = f32.input("a", {2, 2});
  CHECK_THAT(node_statement(to_dot(f32.graph()), a.id()), Catch::EndsWith("input [2, 2]</TD></TR></TABLE>>];"));
}

TEST_CASE("to_dot colours each kind of node, for every stage, and the legend lists the kinds present", "[graph][dot]") {
  Graph g;
  auto x = g.add_explicit(OpKind::input, {}, Shape{2, 3}, DType::f32, {}, "x");
  Attrs two;
  two.value = {2.0};
  auto c = g.add_explicit(OpKind::constant, {}, Shape{}, DType::f32, two, "two");
  auto w = g.add_explicit(OpKind::param, {}, Shape{3, 3}, DType::f32, {}, "W");
  auto bias = g.add_explicit(OpKind::param, {}, Shape{3}, DType::f32, {}, "b");
  auto fwd = g.add(OpKind::matmul, {x, w}, {}, "mm");
  auto fused = g.add(OpKind::affine, {x, w, bias}, {}, "aff");
  auto back = g.add(OpKind::mul, {fwd, c}, {}, "grad/mm", Role::backward);
  auto sum = g.add(OpKind::add_n, {back, fused}, {}, "grad/sum", Role::backward);
  auto upd = g.add(OpKind::sub, {w, w}, {}, "update/W", Role::update);

  std::map<NodeId, DotKind> expected = {{x, DotKind::data},       {c, DotKind::data},
                                        {w, DotKind::param},      {bias, DotKind::param},
                                        {fwd, DotKind::forward},  {fused, DotKind::fused},
                                        {back, DotKind::backward}, {sum, DotKind::gradient_sum},
                                        {upd, DotKind::update}};
  std::string text = to_dot(g);
  std::set<std::string_view> colours;
  for (auto [id, kind] : expected) {
    CHECK(dot_kind(g[id]) == kind);
    CHECK_THAT(node_statement(text, id),
               Catch::Contains("BGCOLOR=\"" + std::string(dot_kind_colour(kind)) + "\""));
    colours.insert(dot_kind_colour(kind));
  }
  CHECK(colours.size() == 7);  // seven kinds, seven distinct colours

  auto legend_at = text.find("legend [label=");
  REQUIRE(legend_at != std::string::npos);
  std::string legend = text.substr(legend_at);
  for (DotKind k : {DotKind::param, DotKind::data, DotKind::forward, DotKind::backward, DotKind::gradient_sum,
                    DotKind::fused, DotKind::update})
    CHECK_THAT(legend, Catch::Contains(std::string(dot_kind_colour(k))));

  // A forward-only graph's legend does not advertise backward or update.
  std::string forward_only = to_dot(mlp());
  std::string small_legend = forward_only.substr(forward_only.find("legend [label="));
  CHECK_THAT(small_legend, Catch::Contains("forward"));
  CHECK_THAT(small_legend, Catch::Contains("param"));
  CHECK_THAT(small_legend, !Catch::Contains("backward"));
  CHECK_THAT(small_legend, !Catch::Contains(std::string(dot_kind_colour(DotKind::update))));
}

TEST_CASE("to_dot draws optimizer-update ops as updates with their hyper-parameters", "[graph][dot]") {
  Graph g;
  auto w = g.add_explicit(OpKind::param, {}, Shape{3}, DType::f32, {}, "W");
  auto grad = g.add_explicit(OpKind::input, {}, Shape{3}, DType::f32, {}, "grad/W");
  Attrs sgd;
  sgd.lr = 0.125;
  sgd.weight_decay = 0.5;
  // Forward role, as a graph file without "role" fields would give it: the op alone makes it an update.
  auto update = g.add(OpKind::sgd_update, {w, grad}, sgd, "sgd/W");
  Attrs plain;
  plain.lr = 0.25;
  auto update_no_decay = g.add(OpKind::sgd_update, {w, grad}, plain, "sgd/W2");

  CHECK(dot_kind(g[update]) == DotKind::update);
  std::string text = to_dot(g);
  CHECK_THAT(node_statement(text, update),
             Catch::Contains("BGCOLOR=\"" + std::string(dot_kind_colour(DotKind::update)) + "\""));
  CHECK_THAT(node_statement(text, update), Catch::Contains("lr=0.125 weight_decay=0.5"));
  // Every hyper-parameter an update declares as required is drawn, a zero
  // weight decay too (graph/ops.def).
  CHECK_THAT(node_statement(text, update_no_decay), Catch::Contains("lr=0.25 weight_decay=0"));
}

TEST_CASE("to_dot puts clustered nodes in one subgraph per cluster name and adds extra lines in order",
          "[graph][dot]") {
  Graph g = mlp();
  DotOptions opts;
  opts.title = "mlp after fusion";
  NodeId mm = g.at("fc1/matmul"), add = g.at("fc1/add"), mm2 = g.at("fc2/matmul"), add2 = g.at("fc2/add");
  opts.cluster = {{mm, "affine fc1"}, {add, "affine fc1"}, {mm2, "affine fc2"}, {add2, "affine fc2"}};
  opts.extra_lines[mm] = {"offset 0", "size 2048 B"};

  std::string text = to_dot(g, opts);
  std::string mm_statement = node_statement(text, mm);
  auto first = mm_statement.find("offset 0"), second = mm_statement.find("size 2048 B");
  CHECK(first != std::string::npos);
  CHECK(second != std::string::npos);
  CHECK(first < second);

  auto gv = run_graphviz(text, "json");
  if (!gv) {
    WARN("SKIPPED: graphviz's dot is not installed (apt-get install graphviz); cannot check the clusters");
    return;
  }
  REQUIRE(gv->exit_code == 0);
  CHECK(gv->err.empty());
  Parsed p = parse(gv->json());
  CHECK(p.cluster_members["affine fc1"] == std::set<std::string>{dot_name(mm), dot_name(add)});
  CHECK(p.cluster_members["affine fc2"] == std::set<std::string>{dot_name(mm2), dot_name(add2)});
  CHECK(gv->json().value("label", "") == "<B>mlp after fusion</B>");
}

TEST_CASE("to_dot output is accepted by graphviz for awkward names, titles, clusters and extra lines",
          "[graph][dot]") {
  // Every character a node name may hold, DOT keywords, and names that look
  // like the ids the writer uses for nodes.
  Graph g;
  std::vector<std::string> names = {"-",    ".",     "/",         "_",     "..",   "a//b",   "0",      "1.5e3",
                                    "-x-",  "n0",    "n1",        "edge",  "node", "graph",  "digraph", "subgraph",
                                    "strict", "a.b/c-d_e", "ABCxyz0123456789_-/."};
  std::vector<NodeId> ids;
  for (const auto& n : names) ids.push_back(g.add_explicit(OpKind::input, {}, Shape{2}, DType::f32, {}, n));
  NodeId sum = g.add(OpKind::add, {ids[0], ids[1]}, {}, "sum.all");

  DotOptions opts;
  opts.title = "title with \"quotes\", <tags>, {braces} | pipes & a\\backslash\n newline; }";
  std::string awkward = "<b>&amp;\"'{}|\\ \n\t;[]=-> -- </TD></TR></TABLE>> ] ; } digraph { \x01\x7f";
  std::string unicode = "Gr\xc3\xb6\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\xa5";  // valid UTF-8
  std::string broken = "bad \xff\xfe \xc3 \xed\xa0\x80 end";                                   // not UTF-8
  opts.extra_lines[sum] = {awkward, unicode, broken, ""};
  opts.cluster[ids[2]] = "cluster \"}\" { subgraph <x>";
  opts.cluster[ids[3]] = "cluster \"}\" { subgraph <x>";
  opts.cluster[ids[4]] = awkward;

  std::string text = to_dot(g, opts);
  // The awkward strings appear only as entities.
  CHECK_THAT(text, Catch::Contains("&lt;b&gt;&amp;amp;&quot;&#39;{}|\\"));
  CHECK_THAT(text, Catch::Contains(unicode));
  CHECK_THAT(text, Catch::Contains("bad &#xFFFD;&#xFFFD; &#xFFFD; &#xFFFD;&#xFFFD;&#xFFFD; end"));
  CHECK_THAT(text, !Catch::Contains("\x01"));

  auto gv = run_graphviz(text, "svg");
  if (!gv) {
    WARN("SKIPPED: graphviz's dot is not installed (apt-get install graphviz); cannot check that it accepts the text");
    return;
  }
  INFO(text);
  CHECK(gv->exit_code == 0);
  CHECK(gv->err == "");  // not even a warning
  const std::string& svg = gv->out;
  CHECK_THAT(svg, Catch::Contains("</svg>"));
  for (const auto& n : names) {
    std::string in_svg;  // graphviz writes '-' as a character reference in SVG text
    for (char c : n) in_svg += (c == '-') ? std::string("&#45;") : std::string(1, c);
    CHECK_THAT(svg, Catch::Contains(">" + in_svg + "</text>"));
  }
  CHECK_THAT(svg, Catch::Contains("&lt;b&gt;&amp;amp;&quot;"));

  // And graphviz sees exactly the nodes and edges that were meant.
  auto parsed = run_graphviz(text, "json");
  REQUIRE(parsed->exit_code == 0);
  Parsed p = parse(parsed->json());
  CHECK(p.label_of.size() == g.size() + 1);
  CHECK(p.edges.size() == 2);
  CHECK(p.cluster_members.size() == 2);
}

TEST_CASE("to_dot rejects options that name a node the graph does not have", "[graph][dot]") {
  Graph g = mlp();
  DotOptions opts;
  opts.extra_lines[g.size() + 4] = {"offset 0"};
  try {
    to_dot(g, opts);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("extra_lines"));
    CHECK_THAT(e.what(), Catch::Contains(std::to_string(g.size() + 4)));
    CHECK_THAT(e.what(), Catch::Contains(std::to_string(g.size()) + " nodes"));
  }
  DotOptions clustered;
  clustered.cluster[g.size()] = "c";
  CHECK_THROWS_AS(to_dot(g, clustered), Error);
}

TEST_CASE("to_dot is deterministic", "[graph][dot]") {
  Graph g = mlp();
  DotOptions opts;
  opts.cluster = {{g.at("fc2/add"), "b"}, {g.at("fc1/add"), "a"}};
  CHECK(to_dot(g, opts) == to_dot(g, opts));
  CHECK(to_dot(mlp()) == to_dot(mlp()));
}

TEST_CASE("to_dot lists a multi-output node's outputs and labels a get_output edge by its output",
          "[graph][dot][multi_output]") {
  Builder b;
  auto z = b.input("z", {4, 3}, DType::f64);
  auto y = b.labels("y", 4, 3);
  auto fused = b.op(OpKind::softmax_cross_entropy_with_grad, {z, y}, {}, "loss");
  b.set_loss(fused);
  Graph& g = b.graph();
  NodeId dz = g.add(OpKind::get_output, {fused.id()}, {}, "grad/z", Role::backward);
  std::string text = to_dot(g);

  const std::string statement = node_statement(text, fused.id());
  CHECK_THAT(statement, Catch::Contains("<TD>softmax_cross_entropy_with_grad</TD>"));
  CHECK_THAT(statement, Catch::Contains("<TD>out 0: [] f64</TD></TR><TR><TD>out 1: [4, 3] f64</TD>"));
  CHECK_THAT(statement, Catch::Contains("<I>loss</I>"));
  CHECK_THAT(node_statement(text, dz), Catch::Contains("get_output [4, 3] f64"));
  CHECK_THAT(node_statement(text, dz), Catch::Contains("index=1"));
  CHECK_THAT(text, Catch::Contains(dot_name(fused.id()) + " -> " + dot_name(dz) + " [label=\"out 1\"];"));
  // Operand indices still label the fused node's own two inputs.
  CHECK_THAT(text, Catch::Contains(dot_name(z.id()) + " -> " + dot_name(fused.id()) + " [label=\"0\"];"));

  auto parsed = run_graphviz(text, "json");
  if (!parsed) {
    WARN("SKIPPED: graphviz's dot is not installed; cannot check that it reads the picture");
    return;
  }
  REQUIRE(parsed->exit_code == 0);
  Parsed p = parse(parsed->json());
  CHECK(p.edges.count({dot_name(fused.id()), dot_name(dz), "out 1"}) == 1);
}
