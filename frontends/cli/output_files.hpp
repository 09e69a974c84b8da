#pragma once
// Writing what a subcommand produces: never a half-written file, and
// Graphviz found (or clearly reported missing) before anything is written.
#include <string>
#include <string_view>

namespace kiln::cli {

// Writes `content` to `path` through a temporary file in the same directory,
// renamed over `path` once complete, so a failure leaves no partial file and
// an existing file untouched. Throws kiln::Error naming the path.
void write_file_atomically(const std::string& path, std::string_view content);

// The path of an executable `program` found on $PATH, or "" when there is
// none.
std::string find_on_path(std::string_view program);

// Renders DOT text with Graphviz's `dot -T<format>` into `path` (same
// temporary-then-rename discipline). Throws kiln::Error when `dot` is not
// installed (saying to install graphviz) or when it fails (with its first
// line of complaint).
void render_with_graphviz(std::string_view dot_text, const std::string& path, const std::string& format);

}  // namespace kiln::cli
