// The kiln command line. Every kiln::Error becomes one line on stderr and
// exit code 2.
#include <iostream>

#include <CLI/CLI.hpp>

#include "graph/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kiln: a static computation-graph compiler for training neural networks"};
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const kiln::Error& e) {
    std::cerr << "kiln: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
