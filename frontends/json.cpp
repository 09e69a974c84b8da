// Graph files on disk: reading with errors that name the path, and writing
// atomically (temporary file + rename) so a crash or a full disk never leaves
// a half-written graph under the real name.
#include "frontends/json.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "frontends/onnx/import.hpp"
#include "graph/error.hpp"

namespace kiln {

Graph load_graph_file(const std::string& path, const onnx::ImportOptions& onnx) {
  if (onnx::is_onnx_path(path)) return onnx::import_onnx(path, onnx);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error("cannot read graph file '" + path + "': it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open graph file '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error("cannot read graph file '" + path + "': " + std::strerror(errno));
  return parse_graph_json(text.str(), path, std::filesystem::path(path).parent_path().string());
}

void save_graph_file(const Graph& g, const std::string& path) {
  const std::string text = graph_to_json(g);  // may throw; nothing is on disk yet
  namespace fs = std::filesystem;
  const fs::path target(path);
  // Same directory as the target, so that the rename cannot cross file systems.
  std::string hidden_name(1, '.');  // appended piecewise: GCC 12 warns falsely on "." + string
  hidden_name += target.filename().string();
  hidden_name += ".tmp-";
  hidden_name += std::to_string(::getpid());
  const fs::path temporary = target.parent_path() / hidden_name;
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write graph file '" + path + "': " + std::strerror(errno));
    out << text;
    out.flush();
    if (!out) {
      const std::string reason = std::strerror(errno);
      out.close();
      std::remove(temporary.c_str());
      throw Error("cannot write graph file '" + path + "': " + reason);
    }
  }
  std::error_code ec;
  fs::rename(temporary, target, ec);
  if (ec) {
    std::remove(temporary.c_str());
    throw Error("cannot write graph file '" + path + "': " + ec.message());
  }
}

}  // namespace kiln
