#pragma once
// The version `kiln --version` prints. The build may pass the project's
// version as KILN_VERSION; otherwise this copy is used, and a test
// (tests/cli/cli_test.cpp) fails when it drifts from CMakeLists.txt.
#ifndef KILN_VERSION
#define KILN_VERSION "0.1.0"
#endif
