// The ONNX decoder of a kiln built without ONNX support (KILN_WITH_ONNX=OFF,
// or protoc / libprotobuf / onnx.proto missing at configure time): every
// .onnx file is refused with one line that says how to get it.
#include "frontends/onnx/onnx_model.hpp"
#include "graph/error.hpp"

namespace kiln::onnx {
namespace {

[[noreturn]] void refuse(const std::string& source) {
  throw Error(source + ": this kiln was built without ONNX import (configure with KILN_WITH_ONNX=ON and " +
              "Debian's protobuf-compiler, libprotobuf-dev and libonnx-dev installed)");
}

}  // namespace

bool onnx_support_built() { return false; }

Model decode_onnx_file(const std::string& path, const DecodeLimits&) { refuse(path); }

Model decode_onnx_bytes(std::string_view, const std::string& source, const std::string&, const DecodeLimits&) {
  refuse(source);
}

}  // namespace kiln::onnx
