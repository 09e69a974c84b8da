#include "frontends/data/csv.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <vector>

#include "graph/error.hpp"

namespace kiln::data {
namespace {

std::string read_file(const std::string& path, const char* role) {
  // An ifstream opens a directory and reads it as empty, which would be
  // reported as an "empty file".
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    throw Error("cannot open " + std::string(role) + " file '" + path + "': it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + std::string(role) + " file '" + path + "': " + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  return std::move(contents).str();
}

// A cell or line position for messages: "path:line:column" (both 1-based).
std::string where(const std::string& path, std::size_t line, std::size_t column) {
  return path + ":" + std::to_string(line) + ":" + std::to_string(column);
}

struct Cell {
  std::string_view text;  // without surrounding blanks
  std::size_t column;     // 1-based column of the cell's first character
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Calls on_line(line_number, line) for every line up to the last one that is
// not blank; a blank line before that is an error.
template <class OnLine>
std::size_t for_each_line(const std::string& path, std::string_view text, OnLine on_line) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  while (!lines.empty() && trim(lines.back()).empty()) lines.pop_back();
  if (lines.empty()) throw Error(path + ": empty file, expected at least one row of numbers");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (trim(lines[i]).empty()) throw Error(where(path, i + 1, 1) + ": empty line between rows");
    on_line(i + 1, lines[i]);
  }
  return lines.size();
}

void split_cells(std::string_view line, std::vector<Cell>& cells) {
  cells.clear();
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    const std::string_view raw = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::size_t leading = 0;
    while (leading < raw.size() && is_blank(raw[leading])) ++leading;
    cells.push_back({trim(raw), start + leading + 1});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

// True when the whole cell is one finite number (nan and inf are refused:
// they would only surface later as a NaN loss).
bool parse_number(std::string_view text, double& value) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);  // from_chars rejects a leading '+'
  if (text.empty() || text.front() == '+') return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

Dataset load_csv(const std::string& features_path, const std::string& labels_path) {
  if (features_path.empty() || labels_path.empty())
    throw Error("load_csv: need both a features file and a labels file (got '" + features_path + "' and '" +
                labels_path + "')");
  Dataset d;
  d.name = features_path;

  const std::string features_text = read_file(features_path, "features");
  std::vector<Cell> cells;
  std::size_t first_width = 0;
  d.rows = static_cast<std::int64_t>(for_each_line(features_path, features_text, [&](std::size_t line, std::string_view text) {
    split_cells(text, cells);
    if (line == 1) first_width = cells.size();
    if (cells.size() != first_width) {
      const std::size_t column = cells.size() > first_width ? cells[first_width].column : text.size() + 1;
      throw Error(where(features_path, line, column) + ": row has " + std::to_string(cells.size()) +
                  " cells, expected " + std::to_string(first_width) + " as on line 1");
    }
    for (std::size_t i = 0; i < cells.size(); ++i) {
      double value = 0.0;
      if (cells[i].text.empty())
        throw Error(where(features_path, line, cells[i].column) + ": cell " + std::to_string(i + 1) + " is empty");
      if (!parse_number(cells[i].text, value))
        throw Error(where(features_path, line, cells[i].column) + ": cell " + std::to_string(i + 1) + " is " +
                    quoted(cells[i].text) + ", not a finite number");
      if (std::abs(value) > std::numeric_limits<float>::max())
        throw Error(where(features_path, line, cells[i].column) + ": " + quoted(cells[i].text) +
                    " does not fit in a 32-bit float");
      d.x.push_back(static_cast<float>(value));
    }
  }));
  d.features = static_cast<std::int64_t>(first_width);

  const std::string labels_text = read_file(labels_path, "labels");
  std::int32_t max_label = -1;
  const auto label_rows = static_cast<std::int64_t>(for_each_line(labels_path, labels_text, [&](std::size_t line, std::string_view text) {
    split_cells(text, cells);
    if (cells.size() != 1)
      throw Error(where(labels_path, line, cells[1].column) + ": expected one label per line, found " +
                  std::to_string(cells.size()) + " cells");
    const Cell& cell = cells.front();
    double value = 0.0;
    constexpr double largest = std::numeric_limits<std::int32_t>::max() - 1;  // so that classes = max + 1 fits
    if (!parse_number(cell.text, value) || value < 0.0 || value != std::floor(value) || value > largest)
      throw Error(where(labels_path, line, cell.column) + ": label " + quoted(cell.text) +
                  " is not an integer class id >= 0");
    if (static_cast<std::int64_t>(line) > d.rows)
      throw Error(where(labels_path, line, 1) + ": more labels than the " + std::to_string(d.rows) +
                  " rows of " + features_path);
    d.y.push_back(static_cast<std::int32_t>(value));
    max_label = std::max(max_label, d.y.back());
  }));
  if (label_rows != d.rows)
    throw Error(where(labels_path, static_cast<std::size_t>(label_rows) + 1, 1) + ": ends after " +
                std::to_string(label_rows) + " labels, but " + features_path + " has " + std::to_string(d.rows) +
                " rows");
  d.classes = static_cast<std::int64_t>(max_label) + 1;
  return d;
}

}  // namespace kiln::data
