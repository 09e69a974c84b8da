#pragma once
#include <string_view>
#include <vector>

#include "graph/node.hpp"
#include "graph/op.hpp"

// The field names of kiln graph files and which of them each op and each init
// kind accepts, shared by the reader and the writer so the two cannot drift.
namespace kiln::json_fields {

inline constexpr std::string_view kName = "name";
inline constexpr std::string_view kOp = "op";
inline constexpr std::string_view kInputs = "inputs";
inline constexpr std::string_view kShape = "shape";
inline constexpr std::string_view kDtype = "dtype";
inline constexpr std::string_view kClasses = "classes";
inline constexpr std::string_view kAxis = "axis";
inline constexpr std::string_view kTransposeA = "transpose_a";
inline constexpr std::string_view kTransposeB = "transpose_b";
inline constexpr std::string_view kFactor = "factor";
inline constexpr std::string_view kIndex = "index";
inline constexpr std::string_view kOffset = "offset";
inline constexpr std::string_view kInit = "init";
inline constexpr std::string_view kValue = "value";
inline constexpr std::string_view kRole = "role";

// The optimizer updates' hyperparameters: one number field each, required
// on the ops that accept it.
struct NumberField {
  std::uint32_t attr;
  std::string_view name;
  double Attrs::*member;
};
inline constexpr NumberField kHyperparameters[] = {
    {Attr::kLr, "lr", &Attrs::lr},
    {Attr::kMomentum, "momentum", &Attrs::momentum},
    {Attr::kBeta1, "beta1", &Attrs::beta1},
    {Attr::kBeta2, "beta2", &Attrs::beta2},
    {Attr::kEps, "eps", &Attrs::eps},
    {Attr::kWeightDecay, "weight_decay", &Attrs::weight_decay},
};

// Node fields in the order the writer emits them; `inputs` only for ops that
// take operands.
inline std::vector<std::string_view> accepted_fields(const OpInfo& info) {
  std::vector<std::string_view> f{kName, kOp};
  if (info.arity != 0) f.push_back(kInputs);
  if (info.accepts(Attr::kShape)) f.push_back(kShape);
  if (info.accepts(Attr::kDtype)) f.push_back(kDtype);
  if (info.accepts(Attr::kClasses)) f.push_back(kClasses);
  if (info.accepts(Attr::kAxis)) f.push_back(kAxis);
  if (info.accepts(Attr::kTransposes)) {
    f.push_back(kTransposeA);
    f.push_back(kTransposeB);
  }
  if (info.accepts(Attr::kFactor)) f.push_back(kFactor);
  if (info.accepts(Attr::kIndex)) f.push_back(kIndex);
  if (info.accepts(Attr::kOffset)) f.push_back(kOffset);
  for (const NumberField& h : kHyperparameters)
    if (info.accepts(h.attr)) f.push_back(h.name);
  if (info.accepts(Attr::kInit)) f.push_back(kInit);
  if (info.accepts(Attr::kValue)) f.push_back(kValue);
  f.push_back(kRole);
  return f;
}

// The keys of an "init" object for one kind.
inline std::vector<std::string_view> init_fields(Init::Kind kind) {
  switch (kind) {
    case Init::Kind::constant: return {"kind", "value", "seed"};
    case Init::Kind::normal: return {"kind", "mean", "std", "seed"};
    case Init::Kind::uniform: return {"kind", "low", "high", "seed"};
    case Init::Kind::zeros:
    case Init::Kind::xavier:
    case Init::Kind::he: break;
  }
  return {"kind", "seed"};
}

}  // namespace kiln::json_fields
