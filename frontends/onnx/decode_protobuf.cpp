// The ONNX protobuf (classes protoc generated from libonnx-dev's onnx.proto)
// into onnx_model.hpp's plain structs. Everything a hostile file can claim is
// checked before it is believed: the file's size, each tensor's element count
// (overflow-safe, against DecodeLimits) before anything is allocated for it,
// raw_data's length against dims × element size, repeated-field counts
// against dims, external data only from files inside the model's folder, and
// data types: FLOAT everywhere, INT64 for shape operands, nothing else.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <unordered_set>

#include "frontends/onnx/onnx_model.hpp"
#include "graph/error.hpp"
#include "onnx.pb.h"

namespace kiln::onnx {
namespace {

namespace fs = std::filesystem;

std::string data_type_name(int type) {
  if (::onnx::TensorProto_DataType_IsValid(type))
    return ::onnx::TensorProto_DataType_Name(static_cast<::onnx::TensorProto_DataType>(type)) + " (" +
           std::to_string(type) + ")";
  return "unknown (" + std::to_string(type) + ")";
}

class Decoder {
 public:
  Decoder(std::string source, std::string folder, const DecodeLimits& limits)
      : source_(std::move(source)), folder_(std::move(folder)), limits_(limits) {}

  Model decode(std::string_view bytes) {
    ::onnx::ModelProto proto;
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      fail("not a readable ONNX model: the protobuf does not parse (a truncated or corrupt file, or not ONNX)");
    if (!proto.has_graph()) fail("the model has no graph");
    Model model;
    model.source = source_;
    model.opset = default_opset(proto);
    const ::onnx::GraphProto& graph = proto.graph();
    if (graph.node_size() > limits_.max_nodes)
      fail(std::to_string(graph.node_size()) + " nodes: above the limit of " + std::to_string(limits_.max_nodes));

    std::unordered_set<std::string> initializer_names;
    for (const ::onnx::TensorProto& t : graph.initializer()) {
      const std::string what = "initializer '" + t.name() + "'";
      if (t.name().empty()) fail("an initializer without a name");
      if (!initializer_names.insert(t.name()).second) fail(what + " is defined twice");
      model.initializers.push_back(tensor(t, what));
    }
    if (graph.sparse_initializer_size() > 0)
      fail("sparse initializer '" + graph.sparse_initializer(0).values().name() + "': sparse tensors are not supported");
    // Exporters that keep initializers as inputs list them among the inputs
    // too; they are params, not inputs.
    for (const ::onnx::ValueInfoProto& v : graph.input())
      if (!initializer_names.count(v.name())) model.inputs.push_back(value_info(v, "graph input"));
    for (const ::onnx::ValueInfoProto& v : graph.output()) model.outputs.push_back(value_info(v, "graph output"));
    for (const ::onnx::NodeProto& n : graph.node()) model.nodes.push_back(node(n));
    return model;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { throw Error(source_ + ": " + message); }

  std::int64_t default_opset(const ::onnx::ModelProto& proto) const {
    for (const ::onnx::OperatorSetIdProto& id : proto.opset_import())
      if (id.domain().empty() || id.domain() == "ai.onnx") return id.version();
    fail("the model imports no opset of the default ONNX domain (ai.onnx)");
  }

  ValueInfo value_info(const ::onnx::ValueInfoProto& v, const std::string& role) const {
    ValueInfo out;
    out.name = v.name();
    const std::string what = role + " '" + v.name() + "'";
    if (v.name().empty()) fail("a " + role + " without a name");
    if (!v.has_type() || !v.type().has_tensor_type()) fail(what + " is not a tensor");
    const auto& type = v.type().tensor_type();
    out.elem_type = type.elem_type();
    if (out.elem_type != ::onnx::TensorProto::FLOAT)
      fail(what + ": data type " + data_type_name(out.elem_type) + " is not supported: kiln imports FLOAT");
    out.has_shape = type.has_shape();
    for (const auto& d : type.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() <= 0) fail(what + ": dimension " + std::to_string(d.dim_value()) + " is not positive");
        out.dims.push_back(d.dim_value());
      } else {
        out.dims.push_back(std::nullopt);
      }
    }
    return out;
  }

  NodeProto node(const ::onnx::NodeProto& n) {
    NodeProto out;
    out.name = n.name();
    out.op_type = n.op_type();
    out.domain = n.domain();
    out.inputs.assign(n.input().begin(), n.input().end());
    out.outputs.assign(n.output().begin(), n.output().end());
    if (out.outputs.empty()) fail(describe_node(out) + " has no output");
    for (const ::onnx::AttributeProto& a : n.attribute()) {
      Attribute attr;
      attr.name = a.name();
      switch (a.type()) {
        case ::onnx::AttributeProto::INT: attr.type = Attribute::Type::int64; attr.i = a.i(); break;
        case ::onnx::AttributeProto::FLOAT: attr.type = Attribute::Type::float32; attr.f = a.f(); break;
        case ::onnx::AttributeProto::INTS:
          attr.type = Attribute::Type::ints;
          attr.ints.assign(a.ints().begin(), a.ints().end());
          break;
        case ::onnx::AttributeProto::FLOATS:
          attr.type = Attribute::Type::floats;
          attr.floats.assign(a.floats().begin(), a.floats().end());
          break;
        case ::onnx::AttributeProto::STRING: attr.type = Attribute::Type::string; attr.s = a.s(); break;
        case ::onnx::AttributeProto::TENSOR:
          attr.type = Attribute::Type::tensor;
          attr.t = tensor(a.t(), describe_node(out) + " attribute '" + a.name() + "'");
          break;
        default: attr.type = Attribute::Type::other; break;
      }
      out.attributes.push_back(std::move(attr));
    }
    return out;
  }

  // Element count of `dims`, refused above the limits before anything is
  // allocated (a 10^12-element claim costs nothing to write in protobuf).
  std::int64_t element_count(const ::onnx::TensorProto& t, const std::string& what) {
    std::int64_t count = 1;
    for (std::int64_t d : t.dims()) {
      if (d <= 0) fail(what + ": dimension " + std::to_string(d) + " is not positive (kiln has no empty tensors)");
      if (count > limits_.max_tensor_elements / d)
        fail(what + ": dims " + dims_text(t) + " claim more than " + std::to_string(limits_.max_tensor_elements) +
             " elements");
      count *= d;
    }
    if (count > limits_.max_total_elements - total_elements_)
      fail(what + ": the tensors together exceed " + std::to_string(limits_.max_total_elements) + " elements");
    total_elements_ += count;
    return count;
  }

  static std::string dims_text(const ::onnx::TensorProto& t) {
    std::string s = "[";
    for (int i = 0; i < t.dims_size(); ++i) s += (i ? ", " : "") + std::to_string(t.dims(i));
    return s + "]";
  }

  TensorValue tensor(const ::onnx::TensorProto& t, const std::string& what) {
    TensorValue out;
    out.name = t.name();
    out.dims.assign(t.dims().begin(), t.dims().end());
    const bool is_float = t.data_type() == ::onnx::TensorProto::FLOAT;
    const bool is_int64 = t.data_type() == ::onnx::TensorProto::INT64;
    if (!is_float && !is_int64)
      fail(what + ": data type " + data_type_name(t.data_type()) +
           " is not supported: kiln imports FLOAT tensors, and INT64 for shape operands");
    if (t.has_segment()) fail(what + ": segmented tensors are not supported");
    out.type = is_float ? TensorValue::Type::float32 : TensorValue::Type::int64;
    const std::int64_t count = element_count(t, what);
    const std::size_t element_bytes = is_float ? sizeof(float) : sizeof(std::int64_t);

    std::string external;
    const std::string* raw = nullptr;
    if (t.data_location() == ::onnx::TensorProto::EXTERNAL) {
      external = external_data(t, what, static_cast<std::uint64_t>(count) * element_bytes);
      raw = &external;
    } else if (t.has_raw_data()) {
      raw = &t.raw_data();
    }
    if (raw) {
      const std::uint64_t expected = static_cast<std::uint64_t>(count) * element_bytes;
      if (raw->size() != expected)
        fail(what + ": raw_data holds " + std::to_string(raw->size()) + " bytes, dims " + dims_text(t) + " need " +
             std::to_string(expected));
      // ONNX stores raw data little-endian, as x86 and ARM64 hold it.
      if (is_float) {
        out.floats.resize(static_cast<std::size_t>(count));
        std::memcpy(out.floats.data(), raw->data(), raw->size());
      } else {
        out.ints.resize(static_cast<std::size_t>(count));
        std::memcpy(out.ints.data(), raw->data(), raw->size());
      }
      return out;
    }
    const std::int64_t stored = is_float ? t.float_data_size() : t.int64_data_size();
    if (stored != count)
      fail(what + ": holds " + std::to_string(stored) + " values, dims " + dims_text(t) + " need " +
           std::to_string(count));
    if (is_float) out.floats.assign(t.float_data().begin(), t.float_data().end());
    else out.ints.assign(t.int64_data().begin(), t.int64_data().end());
    return out;
  }

  // The bytes of an externally stored tensor: `location` must name a regular
  // file inside the model's folder (no absolute path, no way out through ..
  // or a symlink), and offset + length must lie within it.
  std::string external_data(const ::onnx::TensorProto& t, const std::string& what, std::uint64_t expected) {
    std::string location;
    std::uint64_t offset = 0;
    std::optional<std::uint64_t> length;
    for (const auto& entry : t.external_data()) {
      if (entry.key() == "location") location = entry.value();
      else if (entry.key() == "offset" || entry.key() == "length") {
        std::uint64_t value = 0;
        try {
          std::size_t used = 0;
          value = std::stoull(entry.value(), &used);
          if (used != entry.value().size() || entry.value()[0] == '-') throw std::invalid_argument("");
        } catch (const std::exception&) {
          fail(what + ": external data " + entry.key() + " '" + entry.value() + "' is not a number");
        }
        if (entry.key() == "offset") offset = value;
        else length = value;
      }
    }
    if (location.empty()) fail(what + ": external data without a location");
    if (folder_.empty()) fail(what + ": external data '" + location + "' but the model was not read from a file");
    const fs::path relative(location);
    if (relative.is_absolute())
      fail(what + ": external data location '" + location + "' is an absolute path; it must lie inside the model's folder");
    std::error_code ec;
    const fs::path base = fs::weakly_canonical(fs::path(folder_), ec);
    const fs::path file = fs::weakly_canonical(fs::path(folder_) / relative, ec);
    const auto [base_end, file_it] = std::mismatch(base.begin(), base.end(), file.begin(), file.end());
    if (ec || base_end != base.end() || file == base)
      fail(what + ": external data location '" + location + "' lies outside the model's folder " + folder_);
    if (!fs::is_regular_file(file, ec))
      fail(what + ": external data file '" + location + "' is not a readable file in " + folder_);
    const std::uint64_t file_size = fs::file_size(file, ec);
    if (ec) fail(what + ": cannot read external data file '" + location + "': " + ec.message());
    if (length && *length != expected)
      fail(what + ": external data length " + std::to_string(*length) + ", dims " + dims_text(t) + " need " +
           std::to_string(expected) + " bytes");
    if (offset > file_size || expected > file_size - offset)
      fail(what + ": external data '" + location + "' holds " + std::to_string(file_size) + " bytes; offset " +
           std::to_string(offset) + " + " + std::to_string(expected) + " bytes leave it");
    std::ifstream in(file, std::ios::binary);
    std::string bytes(expected, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(bytes.data(), static_cast<std::streamsize>(expected));
    if (!in) fail(what + ": cannot read external data file '" + location + "'");
    return bytes;
  }

  std::string source_, folder_;
  DecodeLimits limits_;
  std::int64_t total_elements_ = 0;
};

}  // namespace

bool onnx_support_built() { return true; }

Model decode_onnx_bytes(std::string_view bytes, const std::string& source, const std::string& folder,
                        const DecodeLimits& limits) {
  return Decoder(source, folder, limits).decode(bytes);
}

Model decode_onnx_file(const std::string& path, const DecodeLimits& limits) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error("cannot read ONNX file '" + path + "': it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open ONNX file '" + path + "': " + std::strerror(errno));
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw Error("cannot read ONNX file '" + path + "': " + ec.message());
  if (size > static_cast<std::uintmax_t>(limits.max_file_bytes))
    throw Error(path + ": " + std::to_string(size) + " bytes: above the limit of " +
                std::to_string(limits.max_file_bytes) + " for an ONNX file (store large tensors as external data)");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!in) throw Error("cannot read ONNX file '" + path + "': " + std::strerror(errno));
  // std::string(1, '.'), not ".": GCC 12 warns falsely (-Wrestrict) on the assignment.
  const fs::path parent = fs::path(path).parent_path();
  return decode_onnx_bytes(bytes, path, parent.empty() ? std::string(1, '.') : parent.string(), limits);
}

}  // namespace kiln::onnx
