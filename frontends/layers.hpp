#pragma once
#include <string>

#include "frontends/builder.hpp"

namespace kiln {

// A fully connected layer x·W + b written as matmul + add, so that the
// fusion pass (not the user) decides to make it one `affine`. Creates
// "name/W" [in, units], "name/b" [units], "name/matmul", "name/add".
Value dense(Builder& g, Value x, std::int64_t units, const std::string& name, Init w_init = Init::he(),
            Init b_init = Init::zeros());

}  // namespace kiln
