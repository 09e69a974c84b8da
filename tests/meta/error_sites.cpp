#include "error_sites.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace kiln::meta {
namespace {

bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool has_three_letters(const std::string& s) {
  int run = 0;
  for (char c : s) {
    run = std::isalpha(static_cast<unsigned char>(c)) ? run + 1 : 0;
    if (run >= 3) return true;
  }
  return false;
}

// Replaces comments by spaces (keeping newlines, so line numbers stay), and
// leaves string and character literals as they are.
std::string without_comments(const std::string& text) {
  std::string out = text;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '"' || out[i] == '\'') {
      const char quote = out[i];
      for (++i; i < out.size() && out[i] != quote; ++i)
        if (out[i] == '\\') ++i;
    } else if (out.compare(i, 2, "//") == 0) {
      for (; i < out.size() && out[i] != '\n'; ++i) out[i] = ' ';
    } else if (out.compare(i, 2, "/*") == 0) {
      const std::size_t end = out.find("*/", i + 2);
      const std::size_t stop = end == std::string::npos ? out.size() : end + 2;
      for (; i < stop; ++i)
        if (out[i] != '\n') out[i] = ' ';
      --i;
    }
  }
  return out;
}

// The string literals between the '(' at `open` and its matching ')'.
std::vector<std::string> literals_in_call(const std::string& text, std::size_t open) {
  std::vector<std::string> literals;
  int depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') {  // a character literal such as '(' must not count
      for (++i; i < text.size() && text[i] != '\''; ++i)
        if (text[i] == '\\') ++i;
    } else if (c == '"') {
      std::string literal;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') literal += text[i++];
        literal += text[i];
      }
      literals.push_back(literal);
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth == 0) break;
    }
  }
  return literals;
}

}  // namespace

std::vector<ErrorSite> find_error_sites(const std::string& file, const std::string& original) {
  static const std::vector<std::string> kCallees = {"Error", "fail", "fail_at", "fail_tensor", "bad"};
  const std::string text = without_comments(original);
  std::vector<ErrorSite> sites;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_identifier_char(text[i]) || (i > 0 && is_identifier_char(text[i - 1]))) continue;
    std::size_t end = i;
    while (end < text.size() && is_identifier_char(text[end])) ++end;
    const std::string word = text.substr(i, end - i);
    if (end < text.size() && text[end] == '(' &&
        std::find(kCallees.begin(), kCallees.end(), word) != kCallees.end()) {
      ErrorSite site;
      site.file = file;
      site.line = static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(i), '\n')) + 1;
      for (const std::string& literal : literals_in_call(text, end))
        if (has_three_letters(literal) && literal.size() > site.key.size()) site.key = literal;
      sites.push_back(site);
    }
    i = end - 1;
  }
  return sites;
}

std::vector<ErrorSite> find_error_sites_in_tree(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> files;
  for (const char* folder : {"graph", "passes", "runtime", "frontends"})
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / folder)) {
      const std::string ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".cpp" || ext == ".hpp")) files.push_back(entry.path());
    }
  std::sort(files.begin(), files.end());
  std::vector<ErrorSite> sites;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    std::vector<ErrorSite> found =
        find_error_sites(std::filesystem::relative(path, root).generic_string(), text.str());
    sites.insert(sites.end(), found.begin(), found.end());
  }
  return sites;
}

std::vector<std::string> code_spans(const std::string& markdown) {
  std::vector<std::string> spans;
  for (std::size_t i = 0; i < markdown.size(); ++i) {
    if (markdown[i] != '`') continue;
    std::size_t ticks = 0;
    while (i + ticks < markdown.size() && markdown[i + ticks] == '`') ++ticks;
    const std::string fence(ticks, '`');
    const std::size_t close = markdown.find(fence, i + ticks);
    if (close == std::string::npos) break;
    spans.push_back(markdown.substr(i + ticks, close - i - ticks));
    i = close + ticks - 1;
  }
  return spans;
}

}  // namespace kiln::meta
