#pragma once
// A failure as the CLI promises it: exit code 2, nothing on stdout, exactly
// one line on stderr that starts "kiln: error: ".
#include <catch2/catch.hpp>

#include "process.hpp"

namespace kiln::test {

inline void check_clean_failure(const RunResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  REQUIRE(r.err_lines().size() == 1);
  CHECK_THAT(r.err, Catch::StartsWith("kiln: error: "));
}

}  // namespace kiln::test
