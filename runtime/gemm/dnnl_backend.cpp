// oneDNN 2.6: a matmul primitive created once when the GEMM is prepared, with
// the bias and ReLU fused as its bias argument and an eltwise post-op, alpha
// as an output scale and beta as a sum post-op. Transposes and leading
// dimensions are strides of the memory descriptors: no copy. Each call only
// points the prepared memory objects at this call's buffers and executes
// through the C API, which takes a plain argument array. f32 only (oneDNN's
// CPU matmul has no f64).
#ifdef KILN_HAVE_DNNL
#include <dnnl.hpp>

#include <array>
#include <cstring>
#include <mutex>

#include "runtime/gemm/backends.hpp"
#include "runtime/threads.hpp"

// Weak: oneDNN's OpenMP runtime; absent with another threading runtime.
extern "C" void omp_set_num_threads(int) __attribute__((weak));

namespace kiln::gemm::detail {
namespace {

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

struct Context {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

Context& context() {
  static Context c;
  return c;
}

class DnnlGemm final : public Prepared {
 public:
  DnnlGemm(const Desc& d, int threads) : Prepared(d, Backend::dnnl), threads_(threads) {
    Context& ctx = context();
    const auto m = static_cast<dnnl::memory::dim>(d.m), n = static_cast<dnnl::memory::dim>(d.n),
               k = static_cast<dnnl::memory::dim>(d.k);
    const auto lda = static_cast<dnnl::memory::dim>(d.lda), ldb = static_cast<dnnl::memory::dim>(d.ldb),
               ldc = static_cast<dnnl::memory::dim>(d.ldc);
    dnnl::memory::desc src({m, k}, dt::f32, d.transpose_a ? dims{1, lda} : dims{lda, 1});
    dnnl::memory::desc weights({k, n}, dt::f32, d.transpose_b ? dims{1, ldb} : dims{ldb, 1});
    dnnl::memory::desc dst({m, n}, dt::f32, dims{ldc, 1});
    dnnl::memory::desc bias = d.epilogue != Epilogue::none ? dnnl::memory::desc({1, n}, dt::f32, dims{n, 1})
                                                           : dnnl::memory::desc();
    dnnl::primitive_attr attr;
    if (d.alpha != 1.0) attr.set_output_scales(0, {static_cast<float>(d.alpha)});
    dnnl::post_ops post;
    if (d.beta != 0.0) post.append_sum(static_cast<float>(d.beta));
    if (d.epilogue == Epilogue::bias_relu) post.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(post);
    dnnl::matmul::desc md = d.epilogue != Epilogue::none ? dnnl::matmul::desc(src, weights, bias, dst)
                                                         : dnnl::matmul::desc(src, weights, dst);
    dnnl::matmul::primitive_desc pd(md, attr, ctx.engine);
    primitive_ = dnnl::matmul(pd);
    // Placeholder handles: every run() points them at its own buffers.
    a_ = dnnl::memory(src, ctx.engine, DNNL_MEMORY_NONE);
    b_ = dnnl::memory(weights, ctx.engine, DNNL_MEMORY_NONE);
    c_ = dnnl::memory(dst, ctx.engine, DNNL_MEMORY_NONE);
    args_[0] = {DNNL_ARG_SRC, a_.get()};
    args_[1] = {DNNL_ARG_WEIGHTS, b_.get()};
    args_[2] = {DNNL_ARG_DST, c_.get()};
    n_args_ = 3;
    if (d.epilogue != Epilogue::none) {
      bias_ = dnnl::memory(bias, ctx.engine, DNNL_MEMORY_NONE);
      args_[n_args_++] = {DNNL_ARG_BIAS, bias_.get()};
    }
  }

  void run(const void* a, const void* b, const void* bias, void* c) const override {
    // oneDNN threads with OpenMP, whose team size is per calling thread: the
    // plan's thread setting (taken when it was compiled) applies here too.
    if (omp_set_num_threads) omp_set_num_threads(threads_);
    dnnl_memory_set_data_handle(a_.get(), const_cast<void*>(a));
    dnnl_memory_set_data_handle(b_.get(), const_cast<void*>(b));
    dnnl_memory_set_data_handle(c_.get(), c);
    if (bias_) dnnl_memory_set_data_handle(bias_.get(), const_cast<void*>(bias));
    dnnl_primitive_execute(primitive_.get(), context().stream.get(), n_args_, args_.data());
  }

 private:
  int threads_;
  dnnl::primitive primitive_;
  dnnl::memory a_, b_, c_, bias_;
  std::array<dnnl_exec_arg_t, 4> args_{};
  int n_args_ = 0;
};

}  // namespace

std::unique_ptr<Prepared> prepare_dnnl(const Desc& d) {
  if (d.dtype != DType::f32) return nullptr;
  try {
    return std::make_unique<DnnlGemm>(d, kiln::threads());
  } catch (const dnnl::error&) {
    return nullptr;  // no implementation for this descriptor
  }
}

std::string dnnl_isa() {
  const dnnl_version_t* v = dnnl_version();
  const char* isa = "unknown";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: isa = "sse41"; break;
    case dnnl::cpu_isa::avx: isa = "avx"; break;
    case dnnl::cpu_isa::avx2: isa = "avx2"; break;
    case dnnl::cpu_isa::avx512_mic: isa = "avx512_mic"; break;
    case dnnl::cpu_isa::avx512_mic_4ops: isa = "avx512_mic_4ops"; break;
    case dnnl::cpu_isa::avx512_core: isa = "avx512_core"; break;
    case dnnl::cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
    case dnnl::cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
    case dnnl::cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
    default: break;
  }
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
         "; ISA " + isa;
}

}  // namespace kiln::gemm::detail
#endif  // KILN_HAVE_DNNL
