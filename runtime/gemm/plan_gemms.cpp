#include "runtime/gemm/plan_gemms.hpp"

#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>

#include "runtime/plan.hpp"

namespace kiln::gemm {
namespace {

using Clock = std::chrono::steady_clock;

std::optional<Desc> desc_of(const Graph& g, NodeId id) {
  const Node& n = g[id];
  const std::vector<NodeId>& in = g.inputs(id);
  const std::size_t first = static_cast<std::size_t>(first_gemm_operand(n.op));
  if (in.size() < first + 2) return std::nullopt;
  return node_gemm_desc(n.op, n.dtype, g[in[first]].shape, g[in[first + 1]].shape, n.attrs);
}

struct Bound {
  std::unique_ptr<Prepared> gemm;
  std::vector<double> storage;  // a, b, c, bias back to back (doubles: room for f32 and f64)
  const void* a = nullptr;
  const void* b = nullptr;
  const void* bias = nullptr;
  void* c = nullptr;
};

Bound bind_scratch(std::unique_ptr<Prepared> p) {
  Bound s;
  const Desc& d = p->desc();
  const std::size_t a = static_cast<std::size_t>((d.transpose_a ? d.k : d.m) * d.lda);
  const std::size_t b = static_cast<std::size_t>((d.transpose_b ? d.n : d.k) * d.ldb);
  const std::size_t c = static_cast<std::size_t>(d.m * d.ldc), bias = static_cast<std::size_t>(d.n);
  s.storage.assign(a + b + c + bias, 0.0);
  // Filled per dtype (an f32 GEMM uses the first half of the doubles' bytes).
  if (d.dtype == DType::f32) {
    float* f = reinterpret_cast<float*>(s.storage.data());
    for (std::size_t i = 0; i < a + b + c + bias; ++i) f[i] = 0.25f;
    s.a = f;
    s.b = f + a;
    s.c = f + a + b;
    s.bias = f + a + b + c;
  } else {
    double* f = s.storage.data();
    for (std::size_t i = 0; i < a + b + c + bias; ++i) f[i] = 0.25;
    s.a = f;
    s.b = f + a;
    s.c = f + a + b;
    s.bias = f + a + b + c;
  }
  s.gemm = std::move(p);
  return s;
}

}  // namespace

std::optional<Desc> node_gemm_desc(OpKind op, DType dtype, const Shape& a, const Shape& b, const Attrs& attrs) {
  const bool folded_update = op == OpKind::sgd_matmul_update;
  if (op != OpKind::matmul && op != OpKind::affine && op != OpKind::affine_relu && !folded_update)
    return std::nullopt;
  if (dtype != DType::f32 && dtype != DType::f64) return std::nullopt;
  if (a.rank() != 2 || b.rank() != 2) return std::nullopt;
  if (op == OpKind::matmul || folded_update) {
    const bool ta = attrs.transpose_a, tb = attrs.transpose_b;
    Desc d = Desc::packed(dtype, ta ? a[1] : a[0], tb ? b[0] : b[1], ta ? a[0] : a[1], ta, tb);
    if (folded_update) {
      d.alpha = -attrs.lr;
      d.beta = 1.0 - attrs.lr * attrs.weight_decay;
    }
    return d;
  }
  Desc d = Desc::packed(dtype, a[0], b[1], a[1]);
  d.epilogue = op == OpKind::affine_relu ? Epilogue::bias_relu : Epilogue::bias;
  return d;
}

std::vector<PlanGemm> plan_gemms(const Plan& plan) {
  std::vector<PlanGemm> out;
  const Graph& g = plan.graph();
  for (NodeId id : plan.order()) {
    std::optional<Desc> d = desc_of(g, id);
    if (!d) continue;
    out.push_back({id, g[id].name, g[id].op, *d, choose(*d)});
  }
  return out;
}

Floor gemm_floor(const std::vector<PlanGemm>& gemms, std::optional<Backend> backend, double budget_ms) {
  Floor f;
  f.backend = backend;
  std::vector<Bound> bound;
  double flops = 0;
  for (const PlanGemm& g : gemms) {
    // The chosen mix runs each GEMM on the threads its choice says.
    std::unique_ptr<Prepared> p =
        backend ? try_prepare(g.desc, *backend) : try_prepare(g.desc, g.choice.backend, g.choice.max_threads());
    if (!p) {
      ++f.fallbacks;
      p = try_prepare(g.desc, Backend::blas);
    }
    flops += g.desc.flops();
    bound.push_back(bind_scratch(std::move(p)));
  }
  auto pass = [&] {
    for (const Bound& b : bound) b.gemm->run(b.a, b.b, b.bias, b.c);
  };
  pass();  // warm-up
  const Clock::time_point deadline = Clock::now() + std::chrono::microseconds(static_cast<long>(budget_ms * 1000));
  double best = std::numeric_limits<double>::infinity();
  for (int round = 0; round < 3 || Clock::now() < deadline; ++round) {
    const Clock::time_point t = Clock::now();
    pass();
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    if (round > 100000) break;
  }
  f.us = best;
  f.gflops = best > 0 ? flops / best / 1e3 : 0;
  return f;
}

std::vector<Floor> gemm_floors(const Plan& plan, double budget_ms) {
  const std::vector<PlanGemm> gemms = plan_gemms(plan);
  std::vector<Floor> out{gemm_floor(gemms, std::nullopt, budget_ms)};
  for (Backend b : compiled_backends()) out.push_back(gemm_floor(gemms, b, budget_ms));
  return out;
}

std::string choice_table(const std::vector<PlanGemm>& gemms) {
  std::string out;
  char line[512];
  for (const PlanGemm& g : gemms) {
    std::string times;
    for (Backend b : compiled_backends()) {
      const double us = g.choice.measured_us[static_cast<std::size_t>(b)];
      char t[64];
      if (us >= 0) std::snprintf(t, sizeof t, " %s %.2f us", std::string(backend_name(b)).c_str(), us);
      else std::snprintf(t, sizeof t, " %s -", std::string(backend_name(b)).c_str());
      times += t;
    }
    const std::string backend = std::string(backend_name(g.choice.backend)) + "/" + std::to_string(g.choice.threads) + "t";
    std::snprintf(line, sizeof line, "%-24s %-28s %-9s %-32s%s\n", g.name.c_str(), g.desc.str().c_str(),
                  backend.c_str(), g.choice.reason.c_str(), times.c_str());
    out += line;
  }
  return out;
}

}  // namespace kiln::gemm
