#include "commands.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace kiln::cli {

namespace {

// A function-local static, so it exists before the first registration
// whatever order the command files are initialised in.
std::vector<std::pair<int, AddCommand>>& registry() {
  static std::vector<std::pair<int, AddCommand>> commands;
  return commands;
}

}  // namespace

bool register_command(int order, AddCommand add) {
  registry().emplace_back(order, add);
  return true;
}

void add_registered_commands(CLI::App& app) {
  auto commands = registry();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [order, add] : commands) add(app);
}

}  // namespace kiln::cli
