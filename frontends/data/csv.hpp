#pragma once
#include <string>

#include "frontends/data/dataset.hpp"

namespace kiln::data {

// Loads a numeric classification dataset from two CSV files with no header:
// FEATURES has one row per example and the same number of comma-separated
// numbers on every row; LABELS has one class id per line, an integer >= 0
// (written as "3", "3.0" or "3e0": numpy.savetxt writes floats). classes is
// max label + 1. Cells may carry surrounding blanks; lines may end in CRLF;
// blank lines at the end are ignored, anywhere else they are an error.
// Every error names file:line:column. Paths may not be empty.
Dataset load_csv(const std::string& features_path, const std::string& labels_path);

}  // namespace kiln::data
