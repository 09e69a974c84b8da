#pragma once
// The matrix products of a compiled plan, for reports and benchmarks (`kiln
// bench`, `kiln compile --stats`): which backend each GEMM got and why, and
// the GEMM floor -- the plan's GEMMs alone, issued back to back.
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "runtime/gemm/choice.hpp"

namespace kiln {
class Plan;
}

namespace kiln::gemm {

// The GEMM a matmul, affine, affine_relu or sgd_matmul_update call runs,
// given the shapes of its two product operands (inputs 0 and 1; 1 and 2 for
// sgd_matmul_update, after the param it accumulates into): transposes from
// the attrs, bias (+ ReLU) as the affine ops' epilogue, alpha = −lr and
// beta = 1 − lr·wd for the folded update. nullopt for any other op, a dtype
// other than f32/f64, or operands that are not matrices. The one description
// the kernel table prepares and the reports time.
std::optional<Desc> node_gemm_desc(OpKind op, DType dtype, const Shape& a, const Shape& b, const Attrs& attrs);
// The input index of a GEMM op's first product operand (1 for sgd_matmul_update).
inline int first_gemm_operand(OpKind op) { return op == OpKind::sgd_matmul_update ? 1 : 0; }

struct PlanGemm {
  NodeId node = 0;
  std::string name;  // the node's name
  OpKind op = OpKind::matmul;
  Desc desc;
  Choice choice;     // as compile() made it under the current policy and tuning file
};

// The plan's GEMMs in schedule order (matmul, affine, affine_relu and
// sgd_matmul_update nodes; the latter with alpha = −lr, beta = 1 − lr·wd).
std::vector<PlanGemm> plan_gemms(const Plan& plan);

// Microseconds for one pass over `gemms` back to back on scratch operands
// (the minimum over repeated passes, about `budget_ms` in all): through
// `backend` for every GEMM it has a kernel for (blas for the others, counted
// in `fallbacks`), or through each GEMM's chosen backend when nullopt.
struct Floor {
  std::optional<Backend> backend;  // nullopt: the chosen mix
  double us = 0;
  double gflops = 0;               // of the whole pass
  std::size_t fallbacks = 0;
};
Floor gemm_floor(const std::vector<PlanGemm>& gemms, std::optional<Backend> backend, double budget_ms = 100);

// The floor for the chosen mix and for each compiled backend, in that order.
std::vector<Floor> gemm_floors(const Plan& plan, double budget_ms = 100);

// One line per GEMM: node, shape, chosen backend, why, and the measured
// microseconds per backend when known. For logs and `--stats`.
std::string choice_table(const std::vector<PlanGemm>& gemms);

// Single-core FMA peak in GFLOP/s measured on the spot (about `ms`
// milliseconds each): with 512-bit vectors (0 when the CPU or OS lacks
// AVX-512F) and with 256-bit vectors (0 without AVX2+FMA).
struct FmaPeak {
  double avx512_gflops = 0;
  double avx2_gflops = 0;
};
FmaPeak measure_fma_peak(double ms = 50);

}  // namespace kiln::gemm
