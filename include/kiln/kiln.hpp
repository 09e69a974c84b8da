#pragma once
// The one header a kiln user includes.

#include "frontends/builder.hpp"
#include "frontends/json.hpp"
#include "frontends/layers.hpp"
#include "frontends/models.hpp"
#include "frontends/train/train.hpp"
#include "graph/dot.hpp"
#include "graph/error.hpp"
#include "graph/graph.hpp"
#include "graph/verify.hpp"
#include "passes/autodiff.hpp"
#include "runtime/checkpoint.hpp"
#include "runtime/npy.hpp"
#include "runtime/plan.hpp"
#include "runtime/tensor.hpp"
#include "runtime/threads.hpp"
