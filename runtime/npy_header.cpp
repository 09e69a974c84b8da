#include "runtime/npy_header.hpp"

#include <cctype>
#include <limits>
#include <optional>

#include "graph/error.hpp"

namespace kiln::npy {
namespace {

// A recursive-descent reader for the small subset of Python literals that
// a .npy header uses: a dict of string keys to a string, a bool or a tuple
// of non-negative integers.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  Header parse() {
    Header h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{', "'{' opening the header dictionary");
    while (true) {
      skip_space();
      if (peek() == '}') break;
      std::size_t key_at = pos_;
      std::string key = string_literal("a quoted key");
      expect(':', "':' after key '" + key + "'");
      if (key == "descr") {
        h.descr = string_literal("a quoted dtype string for 'descr'");
        seen_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean("True or False for 'fortran_order'");
        seen_order = true;
      } else if (key == "shape") {
        h.shape = tuple("a tuple of integers for 'shape'");
        seen_shape = true;
      } else {
        fail_at(key_at, "one of the keys 'descr', 'fortran_order', 'shape'", quoted(key));
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("',' or '}' after the value of '" + key + "'");
      break;
    }
    expect('}', "'}' closing the header dictionary");
    skip_space();
    if (pos_ != text_.size()) fail("nothing after the dictionary but padding");
    if (!seen_descr) fail_at(0, "a 'descr' key", "a header without one");
    if (!seen_order) fail_at(0, "a 'fortran_order' key", "a header without one");
    if (!seen_shape) fail_at(0, "a 'shape' key", "a header without one");
    return h;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r'))
      ++pos_;
  }

  static std::string quoted(std::string_view s) {
    std::string q(1, '\'');
    q.append(s);
    q += '\'';
    return q;
  }

  std::string found_here() const {
    if (pos_ >= text_.size()) return "the end of the header";
    constexpr std::size_t kShown = 12;
    std::string shown(text_.substr(pos_, kShown));
    if (text_.size() - pos_ > kShown) shown += "...";
    return quoted(shown);
  }

  [[noreturn]] void fail(const std::string& expected) const { fail_at(pos_, expected, found_here()); }
  [[noreturn]] void fail_at(std::size_t at, const std::string& expected, const std::string& found) const {
    throw Error("header character " + std::to_string(at) + ": expected " + expected + ", found " + found);
  }

  void expect(char c, const std::string& what) {
    skip_space();
    if (peek() != c) fail(what);
    ++pos_;
  }

  std::string string_literal(const std::string& what) {
    skip_space();
    char quote = peek();
    if (quote != '\'' && quote != '"') fail(what);
    std::size_t start = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') fail_at(pos_, what + " without escapes", "a backslash");
      ++pos_;
    }
    if (pos_ >= text_.size()) fail_at(start - 1, what, "an unterminated string");
    std::string s(text_.substr(start, pos_ - start));
    ++pos_;
    return s;
  }

  bool boolean(const std::string& what) {
    skip_space();
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail(what);
  }

  std::int64_t integer(const std::string& what) {
    skip_space();
    if (!std::isdigit(static_cast<unsigned char>(peek()))) fail(what);
    std::size_t start = pos_;
    std::int64_t v = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      int d = text_[pos_] - '0';
      if (v > (std::numeric_limits<std::int64_t>::max() - d) / 10)
        fail_at(start, "a dimension that fits in 64 bits", quoted(text_.substr(start, 24)));
      v = v * 10 + d;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // Python 2 long literals, as old NumPy wrote them
    return v;
  }

  std::vector<std::int64_t> tuple(const std::string& what) {
    expect('(', what);
    std::vector<std::int64_t> dims;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      dims.push_back(integer("an integer dimension in 'shape'"));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') fail("',' or ')' in 'shape'");
    }
    ++pos_;
    return dims;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

Header parse_header(std::string_view text) { return Reader(text).parse(); }

std::string format_header(const Header& h) {
  std::string shape = "(";
  for (std::size_t i = 0; i < h.shape.size(); ++i) {
    if (i) shape += ", ";
    shape += std::to_string(h.shape[i]);
  }
  if (h.shape.size() == 1) shape += ",";
  shape += ")";
  return "{'descr': '" + h.descr + "', 'fortran_order': " + (h.fortran_order ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

}  // namespace kiln::npy
