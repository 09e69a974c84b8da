// Reading kiln graph files (GRAPH_FORMAT.md). Every check here exists so that
// a user's mistake is reported as one kiln::Error naming the source, the node
// and the field, with what was expected and what was found.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <unordered_map>
#include <vector>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <nlohmann/json.hpp>

#include "frontends/json.hpp"
#include "frontends/init_files.hpp"
#include "frontends/json_fields.hpp"
#include "graph/error.hpp"

namespace kiln {
namespace {

using Json = nlohmann::ordered_json;
using namespace json_fields;

// A short rendering of a JSON value for "found ..." (bounded in depth and
// length, so a hostile file cannot make an error message huge or recurse deep).
void preview_into(const Json& j, std::string& out, int depth) {
  if (out.size() > 60) return;
  if (j.is_array() || j.is_object()) {
    const bool is_obj = j.is_object();
    out += is_obj ? "{" : "[";
    if (depth >= 2 && !j.empty()) {
      out += "...";
    } else {
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        if (out.size() > 60) {
          out += "...";
          break;
        }
        if (is_obj) out += Json(it.key()).dump() + ": ";
        preview_into(*it, out, depth + 1);
      }
    }
    out += is_obj ? "}" : "]";
    return;
  }
  out += j.dump();
}

std::string preview(const Json& j) {
  std::string out;
  preview_into(j, out, 0);
  if (out.size() > 80) out = out.substr(0, 77) + "...";
  return out;
}

// The value of a JSON integer that fits in int64, or nothing (floats such as
// 32.0 are not integers here: shapes and counts must be written exactly).
std::optional<std::int64_t> as_int64(const Json& j) {
  if (j.is_number_unsigned()) {
    auto u = j.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (j.is_number_integer()) return j.get<std::int64_t>();
  return std::nullopt;
}

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Parses with nlohmann, turning its exceptions into kiln::Errors with line,
// column and byte offset, and rejecting duplicate keys (nlohmann would keep
// the last one silently).
class DuplicateKeyCheck {
 public:
  bool operator()(int depth, Json::parse_event_t event, Json& parsed) {
    using E = Json::parse_event_t;
    switch (event) {
      case E::object_start:
        note_element_start(depth);
        keys_.emplace_back();
        break;
      case E::array_start:
        note_element_start(depth);
        break;
      case E::object_end:
        if (!keys_.empty()) keys_.pop_back();
        break;
      case E::key: {
        const std::string& k = parsed.get_ref<const std::string&>();
        if (depth == 1) {
          top_key_ = k;
          in_nodes_ = false;
        }
        if (depth == 3) node_key_ = k;
        if (!keys_.empty() && !keys_.back().insert(k).second && !duplicate_) duplicate_ = where() + in_quotes(k);
        break;
      }
      case E::value:
        note_element_start(depth);
        if (depth == 3 && node_key_ == "name" && parsed.is_string() && in_nodes_ && name_.empty())
          name_ = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  }

  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  // Elements of the top-level "nodes" array start at depth 2.
  void note_element_start(int depth) {
    if (depth == 2 && top_key_ == "nodes") {
      in_nodes_ = true;
      ++node_index_;
      name_.clear();
      node_key_.clear();
    } else if (depth <= 1) {
      in_nodes_ = false;
    }
  }

  std::string where() const {
    if (!in_nodes_) return "duplicate key ";
    std::string at = "nodes[" + std::to_string(node_index_ - 1) + "]";
    if (!name_.empty()) at = "node '" + name_ + "' (" + at + ")";
    return at + ": duplicate key ";
  }

  std::vector<std::set<std::string>> keys_;
  std::string top_key_, node_key_, name_;
  bool in_nodes_ = false;
  std::size_t node_index_ = 0;
  std::optional<std::string> duplicate_;
};

Json parse_text(std::string_view text, const std::string& source) {
  DuplicateKeyCheck dupes;
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end(), std::ref(dupes));
  } catch (const Json::parse_error& e) {
    // nlohmann counts bytes from 1; the error sits just before `byte`.
    std::size_t offset = std::min(e.byte == 0 ? 0 : e.byte - 1, text.size());
    std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
    std::size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
    std::size_t column = offset - (line_start == std::string_view::npos || offset == 0 ? 0 : line_start + 1) + 1;
    std::string detail = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: " prefix.
    if (auto p = detail.find("parse error"); p != std::string::npos)
      if (auto colon = detail.find(": ", p); colon != std::string::npos) detail = detail.substr(colon + 2);
    throw Error(source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": malformed JSON at line " +
                std::to_string(line) + ", column " + std::to_string(column) + " (byte offset " + std::to_string(offset) +
                "): " + detail);
  } catch (const Json::exception& e) {
    throw Error(source + ": malformed JSON: " + e.what());
  }
  if (dupes.duplicate()) throw Error(source + ": " + *dupes.duplicate() + " (each key may appear once)");
  return doc;
}

// The node graph by name, used only to explain a forward reference: if the
// references form a cycle, that (not the order) is the user's real problem.
using NameGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

struct CycleFound {
  std::vector<std::size_t> path;  // v0 -> v1 -> ... -> v0 (data flow order)
};

class CycleRecorder : public boost::default_dfs_visitor {
 public:
  explicit CycleRecorder(std::vector<std::size_t>& parent) : parent_(&parent) {}
  void tree_edge(NameGraph::edge_descriptor e, const NameGraph& g) const {
    (*parent_)[boost::target(e, g)] = boost::source(e, g);
  }
  void back_edge(NameGraph::edge_descriptor e, const NameGraph& g) const {
    std::size_t from = boost::source(e, g), to = boost::target(e, g);
    std::vector<std::size_t> reversed{to};
    for (std::size_t v = from; v != to; v = (*parent_)[v]) reversed.push_back(v);
    reversed.push_back(to);
    throw CycleFound{{reversed.rbegin(), reversed.rend()}};
  }

 private:
  std::vector<std::size_t>* parent_;
};

class Reader {
 public:
  Reader(std::string_view text, const std::string& source, const std::string& base_directory)
      : source_(source), doc_(parse_text(text, source)), init_files_(base_directory) {}

  Graph read() {
    if (!doc_.is_object()) fail("expected a JSON object at the top, found " + preview(doc_));
    for (auto it = doc_.begin(); it != doc_.end(); ++it)
      if (it.key() != "format" && it.key() != "version" && it.key() != "nodes" && it.key() != "loss" &&
          it.key() != "gradients")
        fail("unknown top-level field " + in_quotes(it.key()) + " (expected format, version, nodes, loss, gradients)");
    check_header();
    auto nodes = doc_.find("nodes");
    if (nodes == doc_.end()) fail("missing field 'nodes': expected a list of nodes");
    if (!nodes->is_array()) fail("field 'nodes': expected a list of nodes, found " + preview(*nodes));
    nodes_ = &*nodes;
    index_names();
    for (std::size_t i = 0; i < nodes_->size(); ++i) read_node(i, (*nodes_)[i]);
    read_loss();
    read_gradients();
    return std::move(graph_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { throw Error(source_ + ": " + message); }

  void check_header() const {
    auto format = doc_.find("format");
    if (format == doc_.end()) fail("missing field 'format': expected \"kiln-graph\"");
    if (!format->is_string() || format->get_ref<const std::string&>() != "kiln-graph")
      fail("field 'format': expected \"kiln-graph\", found " + preview(*format));
    auto version = doc_.find("version");
    if (version == doc_.end()) fail("missing field 'version': expected 1");
    if (!version->is_number_integer() || version->get<std::int64_t>() != 1)
      fail("field 'version': expected 1, found " + preview(*version));
  }

  // Where each name is first defined, so that a reference to a later node can
  // be told apart from a reference to no node at all.
  void index_names() {
    for (std::size_t i = 0; i < nodes_->size(); ++i) {
      const Json& n = (*nodes_)[i];
      if (!n.is_object()) continue;
      auto name = n.find("name");
      if (name != n.end() && name->is_string()) first_index_.emplace(name->get<std::string>(), i);
    }
  }

  // ---- one node -----------------------------------------------------------

  struct NodeContext {
    std::size_t index;
    std::string label;  // "node 'fc1' (matmul)" or "nodes[3]"
  };

  [[noreturn]] void fail(const NodeContext& at, const std::string& message) const {
    fail(at.label + ": " + message);
  }
  [[noreturn]] void fail_field(const NodeContext& at, std::string_view field, const std::string& message) const {
    fail(at.label + ": field " + in_quotes(field) + ": " + message);
  }

  void read_node(std::size_t i, const Json& n) {
    NodeContext at{i, "nodes[" + std::to_string(i) + "]"};
    if (!n.is_object()) fail(at, "expected a node object, found " + preview(n));

    std::string name = read_name(at, n);
    at.label = "node '" + name + "'";
    OpKind op = read_op(at, n);
    at.label += " (" + std::string(op_name(op)) + ")";
    const OpInfo& info = op_info(op);
    check_fields(at, n, op);

    // Node ids are list positions: every earlier node was added in order.
    if (auto earlier = graph_.find(name))
      fail_field(at, kName, "expected a unique name, found " + in_quotes(name) + ", already used by nodes[" +
                                std::to_string(*earlier) + "]");

    Role role = read_role(at, n);
    std::vector<NodeId> inputs = read_inputs(at, n, info);
    Attrs attrs = defaults_for(op);
    Shape shape;
    DType dtype = op == OpKind::labels ? DType::i32 : DType::f32;
    for (const AttrUse& use : attr_uses(op)) {
      if (use.id == AttrId::shape) shape = read_shape(at, n, op);
      else if (use.id == AttrId::dtype) dtype = read_dtype(at, n);
      else read_attr(at, n, use, shape, dtype, attrs);
    }
    if (std::optional<AttrProblem> bad = check_attrs(op, attrs)) fail_field(at, attr_name(bad->id), bad->message);

    try {
      if (info.accepts(AttrId::shape))
        graph_.add_explicit(op, inputs, std::move(shape), dtype, std::move(attrs), name, role);
      else
        graph_.add(op, inputs, std::move(attrs), name, role);
    } catch (const Error& e) {
      // The op table's message already starts with "node 'name' (op)".
      fail(e.what());
    }
  }

  std::string read_name(const NodeContext& at, const Json& n) const {
    auto name = n.find("name");
    if (name == n.end()) fail(at, "missing field 'name': expected a unique node name");
    if (!name->is_string()) fail_field(at, "name", "expected a string, found " + preview(*name));
    const std::string& s = name->get_ref<const std::string&>();
    if (!is_valid_node_name(s))
      fail_field(at, "name", "expected a non-empty name of letters, digits, '_', '-', '/', '.', found " +
                                 preview(*name));
    return s;
  }

  OpKind read_op(const NodeContext& at, const Json& n) const {
    auto op = n.find("op");
    if (op == n.end()) fail(at, "missing field 'op': expected one of " + all_op_names());
    if (!op->is_string()) fail_field(at, "op", "expected an op name, found " + preview(*op));
    auto kind = find_op(op->get_ref<const std::string&>());
    if (!kind) fail_field(at, "op", "unknown op " + preview(*op) + ", expected one of " + all_op_names());
    return *kind;
  }

  static std::string all_op_names() {
    std::string s;
    for (std::size_t k = 0; k < kOpCount; ++k) s += (k ? ", " : "") + std::string(op_name(static_cast<OpKind>(k)));
    return s;
  }

  void check_fields(const NodeContext& at, const Json& n, OpKind op) const {
    const OpInfo& info = op_info(op);
    std::vector<std::string_view> accepted = accepted_fields(op);
    for (auto it = n.begin(); it != n.end(); ++it)
      if (std::find(accepted.begin(), accepted.end(), it.key()) == accepted.end()) {
        std::string list;
        for (auto f : accepted) list += (list.empty() ? "" : ", ") + std::string(f);
        fail(at, "unknown field " + in_quotes(it.key()) + " for op " + std::string(info.name) + " (it accepts " + list +
                     ")");
      }
  }

  Role read_role(const NodeContext& at, const Json& n) const {
    auto role = n.find(kRole);
    if (role == n.end()) return Role::forward;
    for (Role r : {Role::forward, Role::backward, Role::update})
      if (role->is_string() && role->get_ref<const std::string&>() == role_name(r)) return r;
    fail_field(at, kRole, "expected \"forward\", \"backward\" or \"update\", found " + preview(*role));
  }

  std::vector<NodeId> read_inputs(const NodeContext& at, const Json& n, const OpInfo& info) {
    const std::string expected = info.arity == kVariadic ? "at least 1 input" : plural(info.arity, "input");
    auto inputs = n.find(kInputs);
    if (inputs == n.end()) {
      if (info.arity == 0) return {};
      fail(at, "missing field 'inputs': expected a list of " + expected);
    }
    if (!inputs->is_array()) fail_field(at, kInputs, "expected a list of " + expected + ", found " + preview(*inputs));
    const std::size_t count = inputs->size();
    if (info.arity == kVariadic ? count == 0 : count != static_cast<std::size_t>(info.arity))
      fail_field(at, kInputs, "expected " + expected + ", found " + std::to_string(count) + " (" + preview(*inputs) + ")");
    std::vector<NodeId> ids;
    for (std::size_t k = 0; k < count; ++k) {
      const Json& ref = (*inputs)[k];
      if (!ref.is_string())
        fail_field(at, kInputs, "expected node names, found " + preview(ref) + " at position " + std::to_string(k));
      const std::string& name = ref.get_ref<const std::string&>();
      if (auto id = graph_.find(name)) {
        ids.push_back(*id);
        continue;
      }
      auto later = first_index_.find(name);
      if (later == first_index_.end())
        fail_field(at, kInputs, "input " + in_quotes(name) + " names no node in the file");
      if (auto cycle = find_cycle(at.index))
        fail_field(at, kInputs, *cycle + " (each node feeds the next; a node may only name inputs defined earlier)");
      fail_field(at, kInputs, "input " + in_quotes(name) + " is defined later in the list (nodes[" +
                                  std::to_string(later->second) + "]); a node may only name inputs defined earlier");
    }
    return ids;
  }

  // "cycle: a -> b -> a" when the name references contain a cycle, searched
  // from node `start` first so that the reported one involves it if possible.
  std::optional<std::string> find_cycle(std::size_t start) const {
    NameGraph names(nodes_->size());
    for (std::size_t j = 0; j < nodes_->size(); ++j) {
      const Json& n = (*nodes_)[j];
      if (!n.is_object()) continue;
      auto inputs = n.find(kInputs);
      if (inputs == n.end() || !inputs->is_array()) continue;
      for (const Json& ref : *inputs) {
        if (!ref.is_string()) continue;
        auto from = first_index_.find(ref.get<std::string>());
        if (from != first_index_.end()) boost::add_edge(from->second, j, names);
      }
    }
    std::vector<std::size_t> parent(nodes_->size());
    std::vector<boost::default_color_type> colors(nodes_->size());
    try {
      boost::depth_first_search(names, CycleRecorder(parent),
                                boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, names)),
                                start);
    } catch (const CycleFound& found) {
      std::string path = "cycle: ";
      for (std::size_t k = 0; k < found.path.size(); ++k)
        path += (k ? " -> " : "") + (*nodes_)[found.path[k]].at("name").get<std::string>();
      return path;
    }
    return std::nullopt;
  }

  Shape read_shape(const NodeContext& at, const Json& n, OpKind op) const {
    auto shape = n.find(kShape);
    if (shape == n.end()) fail(at, "missing field 'shape': expected a list of positive integers");
    if (!shape->is_array()) fail_field(at, kShape, "expected a list of positive integers, found " + preview(*shape));
    std::vector<std::int64_t> dims;
    for (const Json& d : *shape) {
      auto dim = as_int64(d);
      if (!dim || *dim <= 0) fail_field(at, kShape, "expected a list of positive integers, found " + preview(*shape));
      dims.push_back(*dim);
    }
    Shape s(std::move(dims));
    try {
      (void)s.numel();
    } catch (const Error& e) {
      fail_field(at, kShape, e.what());
    }
    if (op == OpKind::labels && s.rank() != 1)
      fail_field(at, kShape, "expected [rows] (one class id per row), found " + s.str());
    return s;
  }

  DType read_dtype(const NodeContext& at, const Json& n) const {
    auto dtype = n.find(kDtype);
    if (dtype == n.end()) return DType::f32;
    if (dtype->is_string()) {
      const std::string& s = dtype->get_ref<const std::string&>();
      if (s == "f32") return DType::f32;
      if (s == "f64") return DType::f64;
    }
    fail_field(at, kDtype, "expected \"f32\" or \"f64\", found " + preview(*dtype));
  }

  // One declared attribute: absent, the op's default (or an error when the
  // op requires it); present, a value of the attribute's type. The op's
  // checks (graph/ops.def) run once every attribute is read.
  void read_attr(const NodeContext& at, const Json& n, const AttrUse& use, const Shape& shape, DType dtype,
                 Attrs& attrs) {
    const std::string_view field = attr_name(use.id);
    auto v = n.find(field);
    visit_attr(use.id, attrs, [&](auto& member) {
      using T = std::decay_t<decltype(member)>;
      if constexpr (std::is_same_v<T, Init>) {
        member = read_init(at, n, shape, dtype);
      } else if constexpr (std::is_same_v<T, std::vector<double>>) {
        member = read_value(at, n, shape);
      } else {
        const std::string expected = use.expects.empty() ? expected_text<T>() : std::string(use.expects);
        if (v == n.end()) {
          if (use.required) fail(at, "missing field " + in_quotes(field) + ": expected " + expected);
          return;
        }
        member = read_typed<T>(at, field, *v, expected);
      }
    });
  }

  template <class T>
  static std::string expected_text() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_same_v<T, double>) return "a number";
    else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) return "a list of integers";
    else if constexpr (std::is_same_v<T, std::optional<int>>) return "an integer axis";
    else return "an integer";
  }

  template <class T>
  T read_typed(const NodeContext& at, std::string_view field, const Json& v, const std::string& expected) const {
    const auto wrong = [&]() { fail_field(at, field, "expected " + expected + ", found " + preview(v)); };
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) wrong();
      return v.get<bool>();
    } else if constexpr (std::is_same_v<T, double>) {
      if (!v.is_number()) wrong();
      return v.get<double>();
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      auto i = as_int64(v);
      if (!i) wrong();
      return *i;
    } else if constexpr (std::is_same_v<T, int> || std::is_same_v<T, std::optional<int>>) {
      auto i = as_int64(v);
      if (!i || *i < std::numeric_limits<int>::min() || *i > std::numeric_limits<int>::max()) wrong();
      return static_cast<int>(*i);
    } else {
      static_assert(std::is_same_v<T, std::vector<std::int64_t>>, "a new attribute type needs a reader here");
      if (!v.is_array()) wrong();
      T out;
      for (const Json& d : v) {
        auto i = as_int64(d);
        if (!i) wrong();
        out.push_back(*i);
      }
      return out;
    }
  }

  Init read_init(const NodeContext& at, const Json& n, const Shape& shape, DType dtype) {
    auto init = n.find(kInit);
    const std::string kinds = "zeros, constant, normal, uniform, xavier, he, file";
    if (init == n.end()) fail(at, "missing field 'init': expected an object such as {\"kind\": \"zeros\"}");
    if (!init->is_object()) fail_field(at, kInit, "expected an object with a \"kind\", found " + preview(*init));
    auto kind_field = init->find("kind");
    if (kind_field == init->end()) fail_field(at, kInit, "missing \"kind\": expected one of " + kinds);
    auto kind = kind_field->is_string() ? parse_init_kind(kind_field->get_ref<const std::string&>()) : std::nullopt;
    if (!kind) fail_field(at, kInit, "unknown kind " + preview(*kind_field) + ", expected one of " + kinds);

    Init out;
    out.kind = *kind;
    std::vector<std::string_view> accepted = init_fields(*kind);
    for (auto it = init->begin(); it != init->end(); ++it)
      if (std::find(accepted.begin(), accepted.end(), it.key()) == accepted.end()) {
        std::string list;
        for (auto f : accepted) list += (list.empty() ? "" : ", ") + std::string(f);
        fail_field(at, kInit, "unknown field " + in_quotes(it.key()) + " for kind \"" +
                                  std::string(init_kind_name(*kind)) + "\" (it accepts " + list + ")");
      }
    // Required parameters have no default: the file must say what it means.
    auto number = [&](const char* key, std::optional<double> fallback) {
      auto v = init->find(key);
      if (v == init->end()) {
        if (fallback) return *fallback;
        fail_field(at, kInit, "missing \"" + std::string(key) + "\": kind \"" + std::string(init_kind_name(*kind)) +
                                  "\" expects a number");
      }
      if (!v->is_number() || !std::isfinite(v->get<double>()))
        fail_field(at, kInit, "\"" + std::string(key) + "\": expected a finite number, found " + preview(*v));
      return v->get<double>();
    };
    switch (*kind) {
      case Init::Kind::constant: out.value = number("value", std::nullopt); break;
      case Init::Kind::normal:
        out.mean = number("mean", 0.0);
        out.std = number("std", std::nullopt);
        if (out.std < 0) fail_field(at, kInit, "\"std\": expected a non-negative number, found " + preview(init->at("std")));
        break;
      case Init::Kind::uniform:
        out.low = number("low", std::nullopt);
        out.high = number("high", std::nullopt);
        if (out.low > out.high)
          fail_field(at, kInit, "expected \"low\" <= \"high\", found " + preview(init->at("low")) + " > " +
                                    preview(init->at("high")));
        break;
      case Init::Kind::file: read_init_file(at, *init, shape, dtype, out); break;
      default: break;
    }
    if (auto seed = init->find("seed"); seed != init->end()) {
      if (!seed->is_number_unsigned())  // nlohmann reads every non-negative integer as unsigned
        fail_field(at, kInit, "\"seed\": expected a non-negative integer, found " + preview(*seed));
      out.seed = seed->get<std::uint64_t>();
    }
    return out;
  }

  // {"kind": "file", "path": "w.safetensors", "tensor": "fc1.weight"} or
  // {"kind": "file", "path": "w.npy"}: the values are read now, so that a
  // graph that reads without error also initialises without one.
  void read_init_file(const NodeContext& at, const Json& init, const Shape& shape, DType dtype, Init& out) {
    auto path = init.find("path");
    if (path == init.end())
      fail_field(at, kInit, "missing \"path\": kind \"file\" expects the name of a .safetensors or .npy file");
    if (!path->is_string() || path->get_ref<const std::string&>().empty())
      fail_field(at, kInit, "\"path\": expected the name of a .safetensors or .npy file, found " + preview(*path));
    out.path = path->get<std::string>();
    auto tensor = init.find("tensor");
    if (is_safetensors_path(out.path)) {
      if (tensor == init.end())
        fail_field(at, kInit, "missing \"tensor\": a .safetensors file holds named tensors; say which one");
      if (!tensor->is_string() || tensor->get_ref<const std::string&>().empty())
        fail_field(at, kInit, "\"tensor\": expected a tensor name, found " + preview(*tensor));
      out.tensor = tensor->get<std::string>();
    } else if (is_npy_path(out.path)) {
      if (tensor != init.end())
        fail_field(at, kInit, "\"tensor\": a .npy file holds one array, found " + preview(*tensor) +
                                  "; remove \"tensor\"");
    } else {
      fail_field(at, kInit, "\"path\": expected a file ending in .safetensors or .npy, found " + preview(*path));
    }
    try {
      out.values = std::make_shared<const std::vector<double>>(init_files_.read(out.path, out.tensor, shape, dtype));
    } catch (const Error& e) {
      fail_field(at, kInit, e.what());
    }
  }

  // Nested lists matching `shape`, or one number for a scalar; row-major.
  std::vector<double> read_value(const NodeContext& at, const Json& n, const Shape& shape) const {
    auto value = n.find(kValue);
    if (value == n.end())
      fail(at, "missing field 'value': expected " +
                   std::string(shape.is_scalar() ? "a number" : "nested lists matching shape " + shape.str()));
    std::vector<double> out;
    read_value_into(at, *value, shape, 0, "value", out);
    return out;
  }

  void read_value_into(const NodeContext& at, const Json& j, const Shape& shape, std::size_t depth,
                       const std::string& where, std::vector<double>& out) const {
    if (depth == shape.rank()) {
      if (!j.is_number() || !std::isfinite(j.get<double>()))
        fail_field(at, kValue, "expected a finite number at " + where + ", found " + preview(j));
      out.push_back(j.get<double>());
      return;
    }
    const auto length = static_cast<std::size_t>(shape[depth]);
    if (!j.is_array() || j.size() != length)
      fail_field(at, kValue, "expected a list of " + std::to_string(length) + " at " + where + " for shape " +
                                 shape.str() + ", found " + preview(j));
    for (std::size_t k = 0; k < length; ++k)
      read_value_into(at, j[k], shape, depth + 1, where + "[" + std::to_string(k) + "]", out);
  }

  void read_loss() {
    auto loss = doc_.find("loss");
    if (loss == doc_.end()) return;
    if (!loss->is_string()) fail("field 'loss': expected a node name, found " + preview(*loss));
    auto id = graph_.find(loss->get_ref<const std::string&>());
    if (!id) fail("field 'loss': expected the name of a node, found " + preview(*loss) + ", which names no node");
    try {
      graph_.set_loss(*id);
    } catch (const Error& e) {
      fail(std::string("field 'loss': ") + e.what());
    }
  }

  // {"W": "grad/W", ...}: which node holds the gradient of which, as
  // recorded by autodiff, in the order it recorded them.
  void read_gradients() {
    auto gradients = doc_.find("gradients");
    if (gradients == doc_.end()) return;
    if (!gradients->is_object())
      fail("field 'gradients': expected an object mapping node names to their gradient nodes, found " +
           preview(*gradients));
    for (auto it = gradients->begin(); it != gradients->end(); ++it) {
      const std::string at = "field 'gradients': entry " + in_quotes(it.key()) + ": ";
      auto of = graph_.find(it.key());
      if (!of) fail(at + "expected the name of a node, found " + in_quotes(it.key()) + ", which names no node");
      if (!it->is_string()) fail(at + "expected the name of its gradient node, found " + preview(*it));
      auto grad = graph_.find(it->get_ref<const std::string&>());
      if (!grad) fail(at + "expected the name of its gradient node, found " + preview(*it) + ", which names no node");
      try {
        graph_.set_gradient(*of, *grad);
      } catch (const Error& e) {
        fail(at + e.what());
      }
    }
  }

  std::string source_;
  Json doc_;
  const Json* nodes_ = nullptr;
  std::unordered_map<std::string, std::size_t> first_index_;
  Graph graph_;
  InitFileReader init_files_;
};

}  // namespace

Graph parse_graph_json(std::string_view text, const std::string& source, const std::string& base_directory) {
  return Reader(text, source, base_directory).read();
}

}  // namespace kiln
