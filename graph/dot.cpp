#include "graph/dot.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <sstream>
#include <utility>

#include "graph/error.hpp"

namespace kiln {

namespace {

// Every string the picture shows goes into an HTML-like label, whose only
// special characters are & < > " ' — so any node name, title or future
// string is safe once these are entities. Control characters (which XML
// cannot carry at all) become spaces and bytes that are not UTF-8 become
// U+FFFD, so Graphviz never rejects the file.
std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto continuation = [&](std::size_t i) {
    return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
  };
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += (c < 0x20 || c == 0x7F) ? ' ' : static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A well-formed multi-byte sequence passes through unchanged.
    std::size_t len = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    bool ok = len > 0;
    for (std::size_t k = 1; ok && k < len; ++k) ok = continuation(i + k);
    if (ok && len == 3) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogate
    }
    if (ok && len == 4) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);  // overlong, beyond U+10FFFF
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "&#xFFFD;";
      ++i;
    }
  }
  return out;
}

std::string format_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// The attributes worth a glance in a picture, as graph/ops.def declares
// them: required ones always, optional ones when they differ from the op's
// default; a constant's values are data, not settings, and are left out.
std::string attribute_line(const Node& n) {
  std::vector<std::string> parts;
  for (const AttrUse& use : attr_uses(n.op)) {
    if (!use.required && is_default_value(n.op, use.id, n.attrs)) continue;
    const std::string name(attr_name(use.id));
    visit_attr(use.id, n.attrs, [&](const auto& v) {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, bool>) {
        if (v) parts.push_back(name);
      } else if constexpr (std::is_same_v<T, double>) {
        parts.push_back(name + "=" + format_number(v));
      } else if constexpr (std::is_same_v<T, std::optional<int>>) {
        if (v) parts.push_back(name + "=" + std::to_string(*v));
      } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
        parts.push_back(name + "=" + Shape(v).str());
      } else if constexpr (std::is_same_v<T, Init>) {
        parts.push_back(name + "=" + std::string(init_kind_name(v.kind)));
      } else if constexpr (std::is_integral_v<T>) {
        parts.push_back(name + "=" + std::to_string(v));
      }
    });
  }
  std::string line;
  for (const auto& p : parts) line += (line.empty() ? "" : " ") + p;
  return line;
}

constexpr std::array kAllKinds = {DotKind::param,        DotKind::data,  DotKind::forward, DotKind::backward,
                                  DotKind::gradient_sum, DotKind::fused, DotKind::update, DotKind::collective};

// Node ids, not names, identify nodes in the DOT text, so a name never has
// to be a valid DOT identifier.
std::string node_id(NodeId id) {
  std::string s = "n";
  s += std::to_string(id);
  return s;
}

void write_node(std::ostream& os, const Graph& g, NodeId id, const DotOptions& opts, const std::string& indent) {
  const Node& n = g[id];
  bool is_loss = g.loss() == id;
  auto type_text = [](const Shape& shape, DType dtype) {
    std::string t = shape.str();
    if (dtype != DType::f32) t += " " + std::string(dtype_name(dtype));
    return t;
  };
  // A multi-output node lists its outputs, one row each, under its op.
  std::string op_line = std::string(op_name(n.op));
  std::vector<std::string> output_lines;
  if (n.extra_outputs.empty()) {
    op_line += " " + type_text(n.shape, n.dtype);
  } else {
    output_lines.push_back("out 0: " + type_text(n.shape, n.dtype));
    for (std::size_t k = 0; k < n.extra_outputs.size(); ++k)
      output_lines.push_back("out " + std::to_string(k + 1) + ": " +
                             type_text(n.extra_outputs[k].shape, n.extra_outputs[k].dtype));
  }

  os << indent << node_id(id) << " [label=<<TABLE BORDER=\"" << (is_loss ? 3 : 1)
     << "\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"2\" BGCOLOR=\"" << dot_kind_colour(dot_kind(n))
     << "\">";
  os << "<TR><TD><B>" << html_escape(n.name) << "</B></TD></TR>";
  os << "<TR><TD>" << html_escape(op_line) << "</TD></TR>";
  for (const auto& line : output_lines) os << "<TR><TD>" << html_escape(line) << "</TD></TR>";
  if (std::string attrs = attribute_line(n); !attrs.empty())
    os << "<TR><TD><FONT POINT-SIZE=\"9\">" << html_escape(attrs) << "</FONT></TD></TR>";
  if (is_loss) os << "<TR><TD><I>loss</I></TD></TR>";
  if (auto it = opts.extra_lines.find(id); it != opts.extra_lines.end())
    for (const auto& line : it->second) os << "<TR><TD>" << html_escape(line) << "</TD></TR>";
  os << "</TABLE>>];\n";
}

void write_legend(std::ostream& os, const Graph& g) {
  std::set<DotKind> present;
  for (NodeId id : g.ids()) present.insert(dot_kind(g[id]));
  if (present.empty()) return;
  os << "  legend [label=<<TABLE BORDER=\"1\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"3\">"
     << "<TR><TD COLSPAN=\"2\"><B>legend</B></TD></TR>";
  for (DotKind k : kAllKinds)
    if (present.count(k))
      os << "<TR><TD BGCOLOR=\"" << dot_kind_colour(k) << "\" WIDTH=\"16\"></TD><TD ALIGN=\"LEFT\">"
         << html_escape(dot_kind_label(k)) << "</TD></TR>";
  os << "</TABLE>>];\n";
}

void check_option_ids(const Graph& g, const DotOptions& opts) {
  auto check = [&](NodeId id, const char* field) {
    if (id >= g.size())
      throw Error(std::string("DOT options: ") + field + " names node id " + std::to_string(id) +
                  ", but the graph has " + std::to_string(g.size()) + " nodes");
  };
  for (const auto& [id, lines] : opts.extra_lines) check(id, "extra_lines");
  for (const auto& [id, name] : opts.cluster) check(id, "cluster");
}

}  // namespace

DotKind dot_kind(const Node& node) {
  if (node.info().category == Category::collective) return DotKind::collective;
  if (node.role == Role::update || node.info().category == Category::update) return DotKind::update;
  if (node.op == OpKind::add_n) return DotKind::gradient_sum;
  if (node.info().category == Category::fused) return DotKind::fused;
  if (node.role == Role::backward) return DotKind::backward;
  if (node.op == OpKind::param) return DotKind::param;
  if (node.info().is_leaf()) return DotKind::data;
  return DotKind::forward;
}

std::string_view dot_kind_label(DotKind kind) {
  switch (kind) {
    case DotKind::param: return "param";
    case DotKind::data: return "input / labels / constant";
    case DotKind::forward: return "forward";
    case DotKind::backward: return "backward";
    case DotKind::gradient_sum: return "gradient sum (add_n)";
    case DotKind::fused: return "fused";
    case DotKind::update: return "optimizer update";
    case DotKind::collective: return "allreduce over ranks";
  }
  return "?";
}

std::string_view dot_kind_colour(DotKind kind) {
  switch (kind) {
    case DotKind::param: return "#ffe08a";
    case DotKind::data: return "#e0e0e0";
    case DotKind::forward: return "#cfe2f3";
    case DotKind::backward: return "#f4c7c3";
    case DotKind::gradient_sum: return "#f9cb9c";
    case DotKind::fused: return "#b6d7a8";
    case DotKind::update: return "#d9c3e9";
    case DotKind::collective: return "#76d7c4";
  }
  return "#ffffff";
}

std::string to_dot(const Graph& g, const DotOptions& opts) {
  check_option_ids(g, opts);
  std::ostringstream os;
  os << "digraph kiln {\n"
     << "  rankdir=TB;\n"
     << "  node [shape=plain, fontname=\"Helvetica\", fontsize=10];\n"
     << "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n";
  if (!opts.title.empty())
    os << "  labelloc=t;\n  fontname=\"Helvetica\";\n  label=<<B>" << html_escape(opts.title) << "</B>>;\n";

  // Clustered nodes are declared inside their cluster; clusters are drawn
  // in name order so the same options always give the same text.
  std::map<std::string, std::vector<NodeId>> clusters;
  for (NodeId id : g.ids()) {
    auto it = opts.cluster.find(id);
    if (it == opts.cluster.end())
      write_node(os, g, id, opts, "  ");
    else
      clusters[it->second].push_back(id);
  }
  int index = 0;
  for (const auto& [name, members] : clusters) {
    os << "  subgraph cluster_" << index++ << " {\n"
       << "    label=<" << html_escape(name) << ">;\n"
       << "    style=\"rounded,dashed\";\n    color=\"#38761d\";\n";
    for (NodeId id : members) write_node(os, g, id, opts, "    ");
    os << "  }\n";
  }

  for (NodeId id : g.ids()) {
    std::vector<std::pair<int, NodeId>> operands;
    for (auto [e, end] = boost::in_edges(id, g.boost()); e != end; ++e)
      operands.emplace_back(g.boost()[*e].operand, boost::source(*e, g.boost()));
    std::sort(operands.begin(), operands.end());
    for (const auto& [operand, source] : operands) {
      os << "  " << node_id(source) << " -> " << node_id(id);
      if (g[id].op == OpKind::get_output)
        os << " [label=\"out " << g[id].attrs.index << "\"]";
      else if (operands.size() > 1)
        os << " [label=\"" << operand << "\"]";
      os << ";\n";
    }
  }
  write_legend(os, g);
  os << "}\n";
  return os.str();
}

}  // namespace kiln
