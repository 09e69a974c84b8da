#include "frontends/data/dataset.hpp"

#include <algorithm>
#include <string>

#include "graph/error.hpp"

namespace kiln::data {

void validate(const Dataset& d) {
  const std::string who = "dataset '" + d.name + "'";
  if (d.rows < 0 || d.features < 0 || d.classes < 0)
    throw Error(who + ": negative size (rows " + std::to_string(d.rows) + ", features " + std::to_string(d.features) +
                ", classes " + std::to_string(d.classes) + ")");
  if (d.x.size() != static_cast<std::size_t>(d.rows * d.features))
    throw Error(who + ": x holds " + std::to_string(d.x.size()) + " values, expected rows × features = " +
                std::to_string(d.rows) + " × " + std::to_string(d.features));
  if (d.y.size() != static_cast<std::size_t>(d.rows))
    throw Error(who + ": y holds " + std::to_string(d.y.size()) + " labels, expected one per row (" +
                std::to_string(d.rows) + ")");
  for (std::size_t r = 0; r < d.y.size(); ++r)
    if (d.y[r] < 0 || d.y[r] >= d.classes)
      throw Error(who + ": row " + std::to_string(r) + " has label " + std::to_string(d.y[r]) + ", outside [0, " +
                  std::to_string(d.classes) + ")");
}

Dataset select_rows(const Dataset& d, const std::vector<std::int64_t>& order, std::string name) {
  Dataset out;
  out.name = std::move(name);
  out.rows = static_cast<std::int64_t>(order.size());
  out.features = d.features;
  out.classes = d.classes;
  out.x.resize(order.size() * static_cast<std::size_t>(d.features));
  out.y.resize(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::int64_t r = order[i];
    if (r < 0 || r >= d.rows)
      throw Error("dataset '" + d.name + "': row " + std::to_string(r) + " selected, but it has " +
                  std::to_string(d.rows) + " rows");
    std::copy_n(d.row(r), d.features, out.x.begin() + static_cast<std::ptrdiff_t>(i * d.features));
    out.y[i] = d.y[static_cast<std::size_t>(r)];
  }
  return out;
}

}  // namespace kiln::data
