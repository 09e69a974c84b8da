#pragma once
// Everything kiln::data offers, for programs that want one include.
#include "frontends/data/batch_iterator.hpp"
#include "frontends/data/csv.hpp"
#include "frontends/data/dataset.hpp"
#include "frontends/data/digits.hpp"
#include "frontends/data/idx.hpp"
#include "frontends/data/load.hpp"
#include "frontends/data/preprocess.hpp"
#include "frontends/data/random.hpp"
#include "frontends/data/synthetic.hpp"
