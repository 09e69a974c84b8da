#pragma once
#include <stdexcept>
#include <string>

namespace kiln {

// Every user-facing failure (bad graph, bad file, bad option) is a kiln::Error.
// The command line turns it into one line on stderr and exit code 2.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace kiln
