#pragma once
// Finds the places in kiln's sources that raise a user-facing error, with
// the rule docs/errors.md states at its top:
//
//   An error site is a construction `Error(...)` or a call of one of the
//   readers' failure helpers `fail(...)`, `fail_at(...)`, `fail_tensor(...)`
//   or `bad(...)` in a .cpp or .hpp file under graph/, passes/, runtime/ or
//   frontends/ (comments skipped). Its key is the longest string literal among
//   the call's arguments that contains a run of three letters, exactly as it
//   is spelled in the source (escapes not decoded). A site whose arguments
//   have no such literal (a rethrow that prefixes a path to another error's
//   message, a helper's own definition) has no key and needs no entry.
//   The catalogue covers a site when the key appears in docs/errors.md
//   inside a `code span`.
#include <filesystem>
#include <string>
#include <vector>

namespace kiln::meta {

struct ErrorSite {
  std::string file;  // relative to the source root
  std::size_t line = 0;
  std::string key;  // "" when the site has none
};

// Every error site in `text` (the contents of `file`).
std::vector<ErrorSite> find_error_sites(const std::string& file, const std::string& text);

// Every error site under the source root's graph/, passes/, runtime/ and
// frontends/.
std::vector<ErrorSite> find_error_sites_in_tree(const std::filesystem::path& root);

// The contents of every `code span` in a Markdown text.
std::vector<std::string> code_spans(const std::string& markdown);

}  // namespace kiln::meta
