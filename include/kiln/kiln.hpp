#pragma once
// The one header a kiln user includes.

#include "frontends/builder.hpp"
#include "frontends/layers.hpp"
#include "graph/error.hpp"
#include "graph/graph.hpp"
#include "graph/verify.hpp"
