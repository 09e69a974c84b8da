// The kiln command line. Subcommands register themselves (commands.hpp);
// every failure becomes one line on stderr and exit code 2.
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "graph/error.hpp"
#include "version.hpp"

namespace {

// Messages may span lines (CLI11's sometimes do); the contract is one line.
std::string one_line(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  return message;
}

// "kiln dot --help" when a subcommand was named, else "kiln --help".
std::string help_hint(const CLI::App& app) {
  std::string hint = "kiln";
  for (const CLI::App* sub : app.get_subcommands()) hint += " " + sub->get_name();
  return hint + " --help";
}

// The message for a first argument that is neither an option nor a subcommand.
std::optional<std::string> unknown_subcommand(const CLI::App& app, const std::string& word) {
  if (word.empty() || word[0] == '-') return std::nullopt;
  std::string known;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == word) return std::nullopt;
    known += (known.empty() ? "" : ", ") + sub->get_name();
  }
  return "unknown subcommand '" + word + "' (expected one of " + known + "; see 'kiln --help')";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kiln: a static computation-graph compiler for training neural networks", "kiln"};
  app.set_version_flag("--version", "kiln " KILN_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Run 'kiln SUBCOMMAND --help' for what a subcommand does and takes.\n\n"
      "Example:\n"
      "  kiln dot examples/graphs/mlp.json -o mlp.svg");
  kiln::cli::add_registered_commands(app);

  // CLI11 says only "A subcommand is required" for `kiln frobnicate`: name it.
  if (argc > 1) {
    if (auto message = unknown_subcommand(app, argv[1])) {
      std::cerr << "kiln: error: " << *message << "\n";
      return 2;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "kiln: error: " << one_line(e.what()) << " (see '" << help_hint(app) << "')\n";
    return 2;
  } catch (const kiln::Error& e) {
    std::cerr << "kiln: error: " << one_line(e.what()) << "\n";
    return 2;
  } catch (const std::exception& e) {  // a bug in kiln, not a problem with the input
    std::cerr << "kiln: internal error: " << one_line(e.what()) << "\n";
    return 3;
  }
  return 0;
}
