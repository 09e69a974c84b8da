#include "runtime/gemm/gemm.hpp"

#include <algorithm>
#include <climits>

#include "graph/error.hpp"
#include "runtime/gemm/backends.hpp"

namespace kiln::gemm {

std::string_view backend_name(Backend b) {
  switch (b) {
    case Backend::blas: return "blas";
    case Backend::xsmm: return "xsmm";
    case Backend::dnnl: return "dnnl";
    case Backend::direct: return "direct";
  }
  return "?";
}

std::optional<Backend> backend_from_name(std::string_view name) {
  for (Backend b : kAllBackends)
    if (backend_name(b) == name) return b;
  return std::nullopt;
}

bool backend_compiled(Backend b) {
  switch (b) {
    case Backend::blas: return true;
    case Backend::direct: return true;
#ifdef KILN_HAVE_XSMM
    case Backend::xsmm: return true;
#endif
#ifdef KILN_HAVE_DNNL
    case Backend::dnnl: return true;
#endif
    default: return false;
  }
}

std::vector<Backend> compiled_backends() {
  std::vector<Backend> out;
  for (Backend b : kAllBackends)
    if (backend_compiled(b)) out.push_back(b);
  return out;
}

Desc Desc::packed(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, bool transpose_a, bool transpose_b) {
  Desc d;
  d.dtype = dtype;
  d.m = m;
  d.n = n;
  d.k = k;
  d.transpose_a = transpose_a;
  d.transpose_b = transpose_b;
  d.lda = transpose_a ? m : k;
  d.ldb = transpose_b ? k : n;
  d.ldc = n;
  return d;
}

namespace {

const char* epilogue_name(Epilogue e) {
  switch (e) {
    case Epilogue::none: return "none";
    case Epilogue::bias: return "bias";
    case Epilogue::bias_relu: return "bias_relu";
  }
  return "?";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::string Desc::key() const {
  return std::string(dtype_name(dtype)) + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
         " k=" + std::to_string(k) + " " + (transpose_a ? "T" : "N") + (transpose_b ? "T" : "N") +
         " lda=" + std::to_string(lda) + " ldb=" + std::to_string(ldb) + " ldc=" + std::to_string(ldc) +
         " alpha=" + number(alpha) + " beta=" + number(beta) + " epilogue=" + epilogue_name(epilogue);
}

std::string Desc::str() const {
  std::string s = std::string(dtype_name(dtype)) + " " + std::to_string(m) + "x" + std::to_string(n) + "x" +
                  std::to_string(k) + " " + (transpose_a ? "T" : "N") + (transpose_b ? "T" : "N");
  if (beta != 0) s += " beta=" + number(beta);
  if (epilogue != Epilogue::none) s += std::string(" +") + epilogue_name(epilogue);
  return s;
}

void validate(const Desc& d) {
  auto fail = [&](const std::string& what) { throw Error("GEMM " + d.key() + ": " + what); };
  if (d.dtype != DType::f32 && d.dtype != DType::f64) fail("dtype must be f32 or f64");
  for (auto [name, v] : {std::pair{"m", d.m}, {"n", d.n}, {"k", d.k}, {"lda", d.lda}, {"ldb", d.ldb}, {"ldc", d.ldc}}) {
    if (v < 1) fail(std::string(name) + " must be at least 1, found " + std::to_string(v));
    if (v > INT_MAX) fail(std::string(name) + " = " + std::to_string(v) + " exceeds the BLAS limit " + std::to_string(INT_MAX));
  }
  const std::int64_t a_cols = d.transpose_a ? d.m : d.k, b_cols = d.transpose_b ? d.k : d.n;
  if (d.lda < a_cols) fail("lda must be at least " + std::to_string(a_cols) + ", found " + std::to_string(d.lda));
  if (d.ldb < b_cols) fail("ldb must be at least " + std::to_string(b_cols) + ", found " + std::to_string(d.ldb));
  if (d.ldc < d.n) fail("ldc must be at least " + std::to_string(d.n) + ", found " + std::to_string(d.ldc));
  if (d.epilogue != Epilogue::none && d.beta != 0) fail("a bias epilogue needs beta = 0");
}

std::unique_ptr<Prepared> try_prepare(const Desc& d, Backend backend) { return try_prepare(d, backend, 0); }

std::unique_ptr<Prepared> try_prepare(const Desc& d, Backend backend, int max_threads) {
  validate(d);
  switch (backend) {
    case Backend::blas: return detail::prepare_blas(d, std::max(max_threads, 0));
    case Backend::direct: return detail::prepare_direct(d);
#ifdef KILN_HAVE_XSMM
    case Backend::xsmm: return detail::prepare_xsmm(d);
#endif
#ifdef KILN_HAVE_DNNL
    case Backend::dnnl: return detail::prepare_dnnl(d);
#endif
    default: return nullptr;
  }
}

std::string backend_isa(Backend b) {
  switch (b) {
    case Backend::blas: return detail::blas_isa();
    case Backend::direct: return detail::direct_isa();
#ifdef KILN_HAVE_XSMM
    case Backend::xsmm: return detail::xsmm_isa();
#endif
#ifdef KILN_HAVE_DNNL
    case Backend::dnnl: return detail::dnnl_isa();
#endif
    default: return "not in this build";
  }
}

}  // namespace kiln::gemm
