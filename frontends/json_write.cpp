// Writing kiln graph files: deterministic output that a person can read and
// diff (one node per line, columns lined up), and that reads back to the same
// graph.
#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "frontends/json.hpp"
#include "frontends/json_fields.hpp"
#include "graph/error.hpp"

namespace kiln {
namespace {

using Json = nlohmann::ordered_json;
using namespace json_fields;

// Columns are as wide as the widest quoted name (op) up to these limits; a
// longer one pushes the rest of its own line right instead of widening all.
constexpr std::size_t kMaxNameColumn = 24;
constexpr std::size_t kMaxOpColumn = 12;

// Compact JSON with a space after ':' and ',' (nlohmann's compact dump has
// none, its pretty dump puts every number on its own line).
void render(const Json& j, std::string& out) {
  if (j.is_object()) {
    out += "{";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out += first ? "" : ", ";
      first = false;
      out += Json(it.key()).dump() + ": ";
      render(*it, out);
    }
    out += "}";
  } else if (j.is_array()) {
    out += "[";
    for (std::size_t k = 0; k < j.size(); ++k) {
      if (k) out += ", ";
      render(j[k], out);
    }
    out += "]";
  } else {
    out += j.dump();  // numbers: the shortest text that reads back to the same double
  }
}

class Writer {
 public:
  explicit Writer(const Graph& g) : g_(g) {}

  std::string write() {
    std::size_t name_column = 0, op_column = 0;
    for (NodeId id : g_.ids()) {
      const std::size_t name = Json(g_[id].name).dump().size(), op = op_name(g_[id].op).size() + 2;
      if (name <= kMaxNameColumn) name_column = std::max(name_column, name);
      if (op <= kMaxOpColumn) op_column = std::max(op_column, op);
    }

    std::string out = "{\n  \"format\": \"kiln-graph\",\n  \"version\": 1,\n  \"nodes\": [";
    bool first = true;
    for (NodeId id : g_.ids()) {
      out += first ? "\n    " : ",\n    ";
      first = false;
      out += node_line(id, name_column, op_column);
    }
    out += first ? "]" : "\n  ]";
    if (auto loss = g_.loss()) out += ",\n  \"loss\": " + Json(g_[*loss].name).dump();
    if (!g_.gradients().empty()) {
      out += ",\n  \"gradients\": {";
      first = true;
      for (auto [of, grad] : g_.gradients()) {
        out += first ? "\n    " : ",\n    ";
        first = false;
        out += Json(g_[of].name).dump() + ": " + Json(g_[grad].name).dump();
      }
      out += "\n  }";
    }
    out += "\n}\n";
    return out;
  }

 private:
  std::string node_line(NodeId id, std::size_t name_column, std::size_t op_column) const {
    const Node& n = g_[id];
    const OpInfo& info = n.info();

    std::string name = Json(n.name).dump();
    std::string op = Json(std::string(info.name)).dump();
    std::string line = "{\"name\": " + name + ",";
    line += std::string(name_column - std::min(name_column, name.size()) + 1, ' ');
    line += "\"op\": " + op;

    Json rest = Json::object();
    if (info.arity != 0) {
      Json inputs = Json::array();
      for (NodeId in : g_.inputs(id)) inputs.push_back(g_[in].name);
      rest[kInputs] = std::move(inputs);
    }
    for (const AttrUse& use : attr_uses(n.op)) write_attr(id, use, rest);
    if (n.role != Role::forward) rest[kRole] = std::string(role_name(n.role));

    if (!rest.empty()) {
      line += ",";
      line += std::string(op_column - std::min(op_column, op.size()) + 1, ' ');
      std::string fields;
      render(rest, fields);
      line += fields.substr(1, fields.size() - 2);  // without rest's own braces
    }
    return line + "}";
  }

  // A required attribute always, an optional one when it differs from the
  // op's default (so files stay short and read back the same).
  void write_attr(NodeId id, const AttrUse& use, Json& rest) const {
    const Node& n = g_[id];
    const std::string name(attr_name(use.id));
    if (use.id == AttrId::shape) {
      rest[name] = n.shape.dims();
      return;
    }
    if (use.id == AttrId::dtype) {
      if (n.dtype != DType::f32) rest[name] = std::string(dtype_name(n.dtype));
      return;
    }
    if (!use.required && is_default_value(n.op, use.id, n.attrs)) return;
    visit_attr(use.id, n.attrs, [&](const auto& v) {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, double>) rest[name] = finite(id, name, v);
      else if constexpr (std::is_same_v<T, Init>) rest[name] = init(id, v);
      else if constexpr (std::is_same_v<T, std::vector<double>>) rest[name] = value(id, n.shape, v);
      else if constexpr (std::is_same_v<T, std::optional<int>>) {
        if (v) rest[name] = *v;
      } else rest[name] = v;
    });
  }

  double finite(NodeId id, std::string_view field, double v) const {
    if (!std::isfinite(v))
      throw Error(describe(g_, id) + ": field '" + std::string(field) + "': " + std::to_string(v) +
                  " cannot be written in JSON, expected a finite number");
    return v;
  }

  Json init(NodeId id, const Init& i) const {
    Json j = Json::object();
    j["kind"] = std::string(init_kind_name(i.kind));
    switch (i.kind) {
      case Init::Kind::constant: j["value"] = finite(id, kInit, i.value); break;
      case Init::Kind::normal:
        if (i.mean != 0.0) j["mean"] = finite(id, kInit, i.mean);
        j["std"] = finite(id, kInit, i.std);
        break;
      case Init::Kind::uniform:
        j["low"] = finite(id, kInit, i.low);
        j["high"] = finite(id, kInit, i.high);
        break;
      case Init::Kind::file:
        j["path"] = i.path;
        if (!i.tensor.empty()) j["tensor"] = i.tensor;
        return j;  // the values come from the file: no seed
      default: break;
    }
    if (i.seed) j["seed"] = *i.seed;
    return j;
  }

  // Nested lists in the shape's layout; a scalar is a bare number.
  Json value(NodeId id, const Shape& shape, const std::vector<double>& flat) const {
    if (flat.size() != static_cast<std::size_t>(shape.numel()))
      throw Error(describe(g_, id) + ": field 'value': expected " + std::to_string(shape.numel()) +
                  " numbers for shape " + shape.str() + ", found " + std::to_string(flat.size()));
    std::size_t next = 0;
    return nest(id, shape, 0, flat, next);
  }

  Json nest(NodeId id, const Shape& shape, std::size_t depth, const std::vector<double>& flat,
            std::size_t& next) const {
    if (depth == shape.rank()) return finite(id, kValue, flat[next++]);
    Json list = Json::array();
    for (std::int64_t k = 0; k < shape[depth]; ++k) list.push_back(nest(id, shape, depth + 1, flat, next));
    return list;
  }

  const Graph& g_;
};

}  // namespace

std::string graph_to_json(const Graph& g) { return Writer(g).write(); }

}  // namespace kiln
