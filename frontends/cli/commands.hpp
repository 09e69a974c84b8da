#pragma once
// How a subcommand joins the `kiln` command: each lives in its own file
// (dot_command.cpp, train_command.cpp, ...) and registers itself there, so
// adding one is one new file and touches no line anybody else edits:
//
//   namespace {
//   void add_dot_command(CLI::App& app) {
//     auto* cmd = app.add_subcommand("dot", "Draw a graph ...");
//     ... options ...
//     cmd->callback([args] { run_dot(*args); });  // throw kiln::Error on failure
//   }
//   const bool registered = kiln::cli::register_command(20, add_dot_command);
//   }  // namespace
//
// The registration runs during static initialisation, which is why the
// command files are compiled straight into the kiln executable and never
// into a static library (the linker would drop an unreferenced object).
//
// A callback reports failure by throwing kiln::Error: main() turns it into
// "kiln: error: ..." on stderr and exit code 2.
#include <CLI/CLI.hpp>

namespace kiln::cli {

using AddCommand = void (*)(CLI::App& app);

// `order` places the subcommand in `kiln --help`: train 10, dot 20, grad 30,
// bench 40, eval 50. Returns true so it can initialise a namespace-scope
// constant.
bool register_command(int order, AddCommand add);

// Adds every registered subcommand to `app`, in order.
void add_registered_commands(CLI::App& app);

}  // namespace kiln::cli
