// kiln bench MODEL: how fast one compiled training step runs, and how that
// compares with the plan's matrix products alone (the GEMM floor).
//
// The floor replays every matmul/affine of the plan, at the plan's shapes and
// transposes, back to back through CBLAS on buffers of its own: what the step
// would cost if everything but the GEMMs were free. step/floor says what the
// rest of the plan costs. --breakdown replays every kernel alone, at the
// plan's shapes, and sums the times per op: where the rest goes.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_common.hpp"
#include "bench_ranks.hpp"
#include "commands.hpp"
#include "frontends/json.hpp"
#include "frontends/models.hpp"
#include "frontends/train/data_parallel.hpp"
#include "graph/error.hpp"
#include "runtime/gemm/choice.hpp"
#include "runtime/gemm/gemm.hpp"
#include "runtime/gemm/plan_gemms.hpp"
#include "runtime/kernels.hpp"
#include "runtime/plan.hpp"
#include "runtime/tensor.hpp"
#include "runtime/threads.hpp"

namespace kiln::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::int64_t batch = 0;
  std::string hidden;
  int steps = 200;
  int warmup = 20;
  int threads = 1;
  bool no_fuse = false;
  bool json = false;
  bool breakdown = false;
  bool floor = true;
  double lr = 0.01;
  std::uint64_t seed = 0;
};



// One matrix product of the plan: C[m, n] = op(A)·op(B) (+ C for affine,
// whose bias is already in C).
struct GemmSpec {
  std::string node;
  std::string op;
  DType dtype = DType::f32;
  int m = 0, n = 0, k = 0, lda = 0, ldb = 0;
  bool transpose_a = false, transpose_b = false;
  // The CBLAS replay's beta: 1 for affine (its bias already in C), else the
  // plan's (1 − lr·wd for a folded SGD update).
  double beta = 0;
  double flops() const { return 2.0 * m * n * k; }
  // As the plan's kernel table describes it to the GEMM backends
  // (gemm::node_gemm_desc), so choose() gives the plan's choice.
  const gemm::Desc& desc() const { return plan_desc; }
  gemm::Desc plan_desc;
};

std::vector<GemmSpec> plan_gemms(const Plan& plan) {
  const Graph& g = plan.graph();
  std::vector<GemmSpec> gemms;
  for (NodeId id : plan.order()) {
    const Node& node = g[id];
    const std::vector<NodeId>& in = g.inputs(id);
    const std::size_t first = static_cast<std::size_t>(gemm::first_gemm_operand(node.op));
    if (in.size() < first + 2) continue;
    const std::optional<gemm::Desc> d =
        gemm::node_gemm_desc(node.op, node.dtype, g[in[first]].shape, g[in[first + 1]].shape, node.attrs);
    if (!d) continue;
    GemmSpec s;
    s.node = node.name;
    s.op = std::string(op_name(node.op));
    s.dtype = d->dtype;
    s.transpose_a = d->transpose_a;
    s.transpose_b = d->transpose_b;
    s.m = static_cast<int>(d->m);
    s.n = static_cast<int>(d->n);
    s.k = static_cast<int>(d->k);
    s.lda = static_cast<int>(d->lda);
    s.ldb = static_cast<int>(d->ldb);
    s.beta = d->epilogue != gemm::Epilogue::none ? 1.0 : d->beta;
    s.plan_desc = *d;
    gemms.push_back(s);
  }
  return gemms;
}

// The plan's GEMMs on buffers of their own, issued through CBLAS.
class GemmReplay {
 public:
  explicit GemmReplay(std::vector<GemmSpec> specs) : specs_(std::move(specs)) {
    for (const GemmSpec& s : specs_) {
      std::size_t a = static_cast<std::size_t>(s.m) * s.k, b = static_cast<std::size_t>(s.k) * s.n,
                  c = static_cast<std::size_t>(s.m) * s.n;
      std::size_t width = s.dtype == DType::f64 ? 2 : 1;  // in floats
      std::size_t total = a + b + c + static_cast<std::size_t>(s.n);  // the last n: a bias
      buffers_.emplace_back(Shape{static_cast<std::int64_t>(total * width)}, DType::f32);
      float* p = buffers_.back().data<float>();
      for (std::size_t i = 0; i < total * width; ++i) p[i] = 0.01f * static_cast<float>(i % 13);
      if (s.dtype == DType::f64) {
        auto* d = reinterpret_cast<double*>(p);
        for (std::size_t i = 0; i < total; ++i) d[i] = 0.01 * static_cast<double>(i % 13);
      }
    }
  }
  void run(std::size_t i) {
    const GemmSpec& s = specs_[i];
    CBLAS_TRANSPOSE ta = s.transpose_a ? CblasTrans : CblasNoTrans, tb = s.transpose_b ? CblasTrans : CblasNoTrans;
    std::size_t a = static_cast<std::size_t>(s.m) * s.k, b = static_cast<std::size_t>(s.k) * s.n;
    if (s.dtype == DType::f64) {
      double* p = reinterpret_cast<double*>(buffers_[i].data<float>());
      cblas_dgemm(CblasRowMajor, ta, tb, s.m, s.n, s.k, 1.0, p, s.lda, p + a, s.ldb, s.beta, p + a + b, s.n);
    } else {
      float* p = buffers_[i].data<float>();
      cblas_sgemm(CblasRowMajor, ta, tb, s.m, s.n, s.k, 1.0f, p, s.lda, p + a, s.ldb, static_cast<float>(s.beta),
                  p + a + b, s.n);
    }
  }
  void run_all() {
    for (std::size_t i = 0; i < specs_.size(); ++i) run(i);
  }
  // GEMM i through a prepared backend kernel, on the same buffers.
  void run_prepared(std::size_t i, const gemm::Prepared& prepared) {
    const GemmSpec& s = specs_[i];
    std::size_t a = static_cast<std::size_t>(s.m) * s.k, b = static_cast<std::size_t>(s.k) * s.n,
                c = static_cast<std::size_t>(s.m) * s.n;
    std::size_t scale = s.dtype == DType::f64 ? 2 : 1;
    float* p = buffers_[i].data<float>();
    prepared.run(p, p + a * scale, p + (a + b + c) * scale, p + (a + b) * scale);
  }
  std::size_t size() const { return specs_.size(); }

 private:
  std::vector<GemmSpec> specs_;
  std::vector<Tensor> buffers_;
};

// The plan's kernels bound again by bind_kernel() -- so each GEMM gets what
// the plan's got, backend and epilogue included -- on buffers of their own
// (one per node, so values flow as in the plan), run once in order so every
// value is realistic.
class KernelReplay {
 public:
  explicit KernelReplay(const Plan& plan) {
    const Graph& g = plan.graph();
    for (NodeId id : plan.order()) {
      const Node& n = g[id];
      // Its value was made, and is written, by the node whose output it is.
      if (n.op == OpKind::get_output) continue;
      Tensor& out = values_.emplace(id, Tensor(n.shape, n.dtype)).first->second;
      if (n.op == OpKind::input || n.op == OpKind::labels || n.op == OpKind::param) {
        fill(out.raw(), n);
        continue;
      }
      std::vector<TensorRef> inputs;
      for (NodeId operand : g.inputs(id)) inputs.push_back(values_.at(operand).ref());
      // As in the plan, an optimizer update overwrites its operand 0 in place.
      const bool in_place = n.info().category == Category::update;
      // A multi-output node writes its further outputs into its get_output
      // nodes' values, made here.
      std::vector<TensorRef> extra;
      for (std::size_t k = 1; k <= n.extra_outputs.size(); ++k) {
        const TensorType& t = n.extra_outputs[k - 1];
        std::optional<NodeId> p = g.projection(id, static_cast<int>(k));
        extra.push_back(p ? values_.try_emplace(*p, t.shape, t.dtype).first->second.ref() : TensorRef{});
      }
      std::vector<BoundKernel> calls;
      bind_kernel(n.op, inputs, in_place ? inputs[0] : out.ref(), n.attrs, calls, extra);
      if (n.op == OpKind::constant) {
        for (const BoundKernel& call : calls) call.run();
        continue;
      }
      steps_.emplace_back(n.op, std::move(calls));
    }
    for (auto& [op, calls] : steps_)
      for (const BoundKernel& call : calls) call.run();
  }
  const std::vector<std::pair<OpKind, std::vector<BoundKernel>>>& steps() const { return steps_; }

 private:
  std::map<NodeId, Tensor> values_;
  std::vector<std::pair<OpKind, std::vector<BoundKernel>>> steps_;
};

bool is_gemm(OpKind op) {
  return op == OpKind::matmul || op == OpKind::affine || op == OpKind::affine_relu ||
         op == OpKind::sgd_matmul_update;
}

// The plan's GEMM kernels alone (bias and ReLU epilogues included), back to
// back through kiln's own kernels: the floor for the backend mix the plan got.
Spread kiln_gemm_floor(const KernelReplay& replay, int warmup, int reps) {
  std::vector<const BoundKernel*> gemms;
  for (const auto& [op, calls] : replay.steps())
    if (is_gemm(op))
      for (const BoundKernel& call : calls) gemms.push_back(&call);
  return time_repeatedly(warmup, reps, [&gemms] {
    for (const BoundKernel* call : gemms) call->run();
  });
}

// The plan's GEMMs all through one backend (CBLAS where it has no kernel).
struct BackendFloor {
  std::string backend, isa;
  int fallbacks = 0;
  Spread time;
};

// Every kernel alone, timed per call: where a step's time goes, by op.
// Kernels run hot in cache here, so the sum is a lower bound of what they
// cost inside the step.
struct OpTime {
  std::string op;
  int calls = 0;
  double seconds = 0;  // per step: the sum of the median time of each call
};

std::vector<OpTime> kernel_breakdown(const KernelReplay& replay, int reps) {
  std::map<std::string, OpTime> by_op;
  for (const auto& [op, calls] : replay.steps()) {
    Spread t = time_repeatedly(3, reps, [&calls] {
      for (const BoundKernel& call : calls) call.run();
    });
    OpTime& entry = by_op[std::string(op_name(op))];
    entry.op = std::string(op_name(op));
    entry.calls += 1;
    entry.seconds += t.median;
  }
  std::vector<OpTime> result;
  for (auto& [name, entry] : by_op) result.push_back(entry);
  std::sort(result.begin(), result.end(), [](const OpTime& a, const OpTime& b) { return a.seconds > b.seconds; });
  return result;
}


bool looks_like_file(const std::string& model) {
  return model.size() > 5 && model.compare(model.size() - 5, 5, ".json") == 0;
}

Graph load_model(const BenchArgs& args) {
  if (looks_like_file(args.model)) {
    if (args.batch != 0 || !args.hidden.empty())
      throw Error("--batch and --hidden apply to built-in models; the shapes of '" + args.model +
                  "' are fixed by the file");
    return load_graph_file(args.model);
  }
  ModelOptions options;
  options.batch = args.batch;
  if (!args.hidden.empty()) options.hidden = parse_hidden_sizes(args.hidden);
  return build_model(args.model, options);
}

// The batch: the leading dimension of the first input.
std::int64_t batch_of(const Graph& g) {
  for (NodeId id : g.ids())
    if (g[id].op == OpKind::input && g[id].shape.rank() > 0) return g[id].shape[0];
  return 0;
}



void run_bench(const BenchArgs& args) {
  const std::shared_ptr<Communicator> world = train::launched_world();
  Graph g = load_model(args);
  if (!g.loss()) throw Error("'" + args.model + "' has no 'loss'; kiln bench times a training step");
  if (world && world->size() > 1) {
    if (args.breakdown) throw Error("--breakdown times kernels on one process; run it without mpirun");
    run_ranks_bench({.model = std::move(g), .name = args.model, .cpu = cpu_model(), .steps = args.steps,
                     .warmup = args.warmup, .threads = args.threads, .fuse = !args.no_fuse, .json = args.json,
                     .lr = args.lr, .seed = args.seed},
                    world);
    return;
  }
  set_threads(args.threads);

  PlanOptions options;
  options.compile.fuse = !args.no_fuse;
  options.optimizer = OptimizerOptions{};
  options.optimizer->lr = args.lr;
  options.seed = args.seed;

  // Compile a few times: the first pays for cold caches and page faults.
  std::vector<double> compile_samples;
  std::unique_ptr<Plan> plan;
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    Plan compiled = compile(g, options);
    compile_samples.push_back(seconds_since(start));
    plan = std::make_unique<Plan>(std::move(compiled));
  }
  Spread compile_time = spread_of(compile_samples);

  feed_every_input(*plan);
  Spread step_time = time_repeatedly(args.warmup, args.steps, [&plan] { plan->step(); });
  double final_loss = plan->loss();

  std::vector<GemmSpec> gemms = plan_gemms(*plan);
  double flops = 0;
  for (const GemmSpec& s : gemms) flops += s.flops();
  GemmReplay replay(args.floor ? gemms : std::vector<GemmSpec>{});
  Spread floor, kiln_floor;
  std::vector<BackendFloor> backend_floors;
  std::vector<gemm::Choice> choices;
  std::vector<Spread> per_gemm;
  std::vector<OpTime> breakdown;
  gemm::FmaPeak fma;
  if (args.floor || args.breakdown) {
    KernelReplay kernels(*plan);
    if (args.floor) {
      floor = time_repeatedly(args.warmup, args.steps, [&replay] { replay.run_all(); });
      for (std::size_t i = 0; i < replay.size(); ++i)
        per_gemm.push_back(time_repeatedly(args.warmup, args.steps, [&replay, i] { replay.run(i); }));
      kiln_floor = kiln_gemm_floor(kernels, args.warmup, args.steps);
      for (gemm::Backend backend : gemm::compiled_backends()) {
        BackendFloor f;
        f.backend = std::string(gemm::backend_name(backend));
        f.isa = gemm::backend_isa(backend);
        std::vector<std::unique_ptr<gemm::Prepared>> prepared;
        for (const GemmSpec& spec : gemms) {
          std::unique_ptr<gemm::Prepared> p = gemm::try_prepare(spec.desc(), backend);
          if (!p) {  // no kernel for this shape on this backend: CBLAS runs it, as the plan would
            p = gemm::try_prepare(spec.desc(), gemm::Backend::blas);
            ++f.fallbacks;
          }
          prepared.push_back(std::move(p));
        }
        f.time = time_repeatedly(args.warmup, args.steps, [&replay, &prepared] {
          for (std::size_t i = 0; i < prepared.size(); ++i) replay.run_prepared(i, *prepared[i]);
        });
        backend_floors.push_back(f);
      }
      for (const GemmSpec& spec : gemms) choices.push_back(gemm::choose(spec.desc()));
      fma = gemm::measure_fma_peak();
    }
    if (args.breakdown) breakdown = kernel_breakdown(kernels, args.steps);
  }

  const MemoryPlan& memory = plan->memory();
  // What the GEMM flops of a step could take at most: the widest FMA's
  // one-core peak times the threads the step may use.
  const double peak_gflops = std::max(fma.avx512_gflops, fma.avx2_gflops) * args.threads;
  const double step_percent_of_peak = peak_gflops > 0 ? 100.0 * flops / step_time.median / 1e9 / peak_gflops : 0;
  double step_over_floor = floor.median > 0 ? step_time.median / floor.median : 0;
  double step_over_kiln_floor = kiln_floor.median > 0 ? step_time.median / kiln_floor.median : 0;

  if (args.json) {
    nlohmann::ordered_json out;
    out["model"] = args.model;
    out["batch"] = batch_of(g);
    out["threads"] = args.threads;
    out["fused"] = !args.no_fuse;
    out["steps"] = args.steps;
    out["warmup"] = args.warmup;
    out["cpu"] = cpu_model();
    out["compile_ms"] = {{"min", compile_time.min * 1e3}, {"median", compile_time.median * 1e3},
                         {"max", compile_time.max * 1e3}};
    out["step_us"] = {{"min", step_time.min * 1e6}, {"median", step_time.median * 1e6},
                      {"max", step_time.max * 1e6}};
    out["steps_per_s"] = 1.0 / step_time.median;
    out["gemm_flops_per_step"] = flops;
    out["gflops"] = flops / step_time.median / 1e9;
    out["memory"] = {{"arena_bytes", memory.arena_bytes},
                     {"lower_bound_bytes", memory.lower_bound},
                     {"naive_bytes", memory.naive_bytes}};
    out["kernel_calls"] = plan->kernel_calls();
    out["final_loss"] = final_loss;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < per_gemm.size(); ++i) {
      const GemmSpec& s = gemms[i];
      list.push_back({{"node", s.node}, {"op", s.op}, {"m", s.m}, {"n", s.n}, {"k", s.k},
                      {"transpose_a", s.transpose_a}, {"transpose_b", s.transpose_b}, {"beta", s.beta},
                      {"median_us", per_gemm[i].median * 1e6}, {"gflops", s.flops() / per_gemm[i].median / 1e9},
                      {"backend", gemm::backend_name(choices[i].backend)}, {"threads", choices[i].threads},
                      {"why", choices[i].reason}});
    }
    if (args.floor)
      out["gemm_floor"] = {{"backend", "cblas"},
                         {"min_us", floor.min * 1e6},
                         {"median_us", floor.median * 1e6},
                         {"gflops", flops / floor.median / 1e9},
                         {"step_over_floor", step_over_floor},
                         {"gemms", list}};
    if (args.floor)
      out["gemm_floor_kiln"] = {{"what", "the plan's GEMM kernels (its backends and epilogues) back to back"},
                                {"min_us", kiln_floor.min * 1e6},
                                {"median_us", kiln_floor.median * 1e6},
                                {"gflops", flops / kiln_floor.median / 1e9},
                                {"step_over_floor", step_over_kiln_floor}};
    if (args.floor) {
      nlohmann::ordered_json per_backend = nlohmann::ordered_json::array();
      for (const BackendFloor& f : backend_floors)
        per_backend.push_back({{"backend", f.backend}, {"isa", f.isa}, {"median_us", f.time.median * 1e6},
                               {"gflops", flops / f.time.median / 1e9},
                               {"step_over_floor", step_time.median / f.time.median},
                               {"gemms_without_a_kernel", f.fallbacks}});
      out["gemm_floor_per_backend"] = per_backend;
      out["fma_peak"] = {{"avx512_gflops_one_core", fma.avx512_gflops},
                         {"avx2_gflops_one_core", fma.avx2_gflops},
                         {"threads", args.threads},
                         {"step_percent_of_peak", step_percent_of_peak}};
    }
    if (args.breakdown) {
      nlohmann::ordered_json ops = nlohmann::ordered_json::array();
      for (const OpTime& t : breakdown) ops.push_back({{"op", t.op}, {"calls", t.calls}, {"us", t.seconds * 1e6}});
      out["breakdown"] = ops;
    }
    std::cout << out.dump(2) << "\n";
    return;
  }

  std::ostringstream os;
  char line[512];
  os << "model " << args.model << ", batch " << batch_of(g) << ", " << args.threads << " thread"
     << (args.threads == 1 ? "" : "s") << ", " << (args.no_fuse ? "unfused" : "fused") << " (" << cpu_model()
     << ")\n";
  os << "compile      " << with_unit(compile_time.median) << " (median of 5; min " << with_unit(compile_time.min)
     << ")\n";
  os << "step         min " << with_unit(step_time.min) << ", median " << with_unit(step_time.median) << ", max "
     << with_unit(step_time.max) << " over " << args.steps << " steps after " << args.warmup << " warm-up\n";
  std::snprintf(line, sizeof line, "throughput   %.1f steps/s, %.2f GFLOP/s (%.3g GEMM flops a step)\n",
                1.0 / step_time.median, flops / step_time.median / 1e9, flops);
  os << line;
  os << "memory       arena " << bytes_text(memory.arena_bytes) << ", lower bound " << bytes_text(memory.lower_bound)
     << ", naive " << bytes_text(memory.naive_bytes) << "\n";
  if (args.floor) {
    std::snprintf(line, sizeof line,
                  "GEMM floor   %s median through CBLAS (%zu GEMMs, %.2f GFLOP/s); step/floor %.2f\n",
                  with_unit(floor.median).c_str(), gemms.size(), flops / floor.median / 1e9, step_over_floor);
    os << line;
    std::snprintf(line, sizeof line,
                  "             %s median through the plan's own GEMM kernels (%.2f GFLOP/s); step/floor %.2f\n",
                  with_unit(kiln_floor.median).c_str(), flops / kiln_floor.median / 1e9, step_over_kiln_floor);
    os << line;
    for (const BackendFloor& f : backend_floors) {
      std::snprintf(line, sizeof line, "             %s median all through %s (%.2f GFLOP/s; %s)", with_unit(f.time.median).c_str(),
                    f.backend.c_str(), flops / f.time.median / 1e9, f.isa.c_str());
      os << line;
      if (f.fallbacks > 0) os << "; " << f.fallbacks << " GEMM" << (f.fallbacks == 1 ? "" : "s") << " through blas";
      os << "\n";
    }
    std::snprintf(line, sizeof line,
                  "FMA peak     %.1f GFLOP/s one core with AVX-512, %.1f with AVX2 (measured now); the step's GEMM "
                  "flops run at %.1f%% of %d x the widest\n",
                  fma.avx512_gflops, fma.avx2_gflops, step_percent_of_peak, args.threads);
    os << line;
  }
  for (std::size_t i = 0; i < per_gemm.size(); ++i) {
    const GemmSpec& s = gemms[i];
    std::snprintf(line, sizeof line, "  %-24s %-17s %5d x %5d x %5d  %c%c  %10s  %6.1f GFLOP/s  kiln: %s on %d thread%s (%s)\n",
                  s.node.c_str(), s.op.c_str(), s.m, s.n, s.k, s.transpose_a ? 'T' : 'N', s.transpose_b ? 'T' : 'N',
                  with_unit(per_gemm[i].median).c_str(), s.flops() / per_gemm[i].median / 1e9,
                  std::string(gemm::backend_name(choices[i].backend)).c_str(), choices[i].threads,
                  choices[i].threads == 1 ? "" : "s", choices[i].reason.c_str());
    os << line;
  }
  if (args.breakdown) {
    os << "kernels alone (median per call, summed per op; hot cache):\n";
    for (const OpTime& t : breakdown) {
      std::snprintf(line, sizeof line, "  %-28s %3d call%s %10s\n", t.op.c_str(), t.calls, t.calls == 1 ? " " : "s",
                    with_unit(t.seconds).c_str());
      os << line;
    }
  }
  std::cout << os.str();
}

void add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Time one compiled training step against the plan's GEMMs alone");
  std::string models;
  for (const std::string& n : model_names()) models += (models.empty() ? "" : ", ") + n;
  cmd->add_option("model", args->model, "A built-in model (" + models + ") or a graph file ending in .json")
      ->required();
  cmd->add_option("--batch", args->batch, "Batch size of a built-in model (default: the model's; under mpirun, split over the ranks)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--hidden", args->hidden, "Hidden layer sizes of a built-in model, e.g. 1024,1024");
  cmd->add_option("--steps", args->steps, "Timed steps")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--warmup", args->warmup, "Untimed steps first")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--threads", args->threads, "Threads the kernels may use")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--no-fuse", args->no_fuse, "Time the unfused plan");
  cmd->add_option("--lr", args->lr, "SGD learning rate of the timed steps")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the initial params")->capture_default_str();
  cmd->add_flag("--breakdown", args->breakdown, "Also time every kernel alone and sum the times per op");
  cmd->add_flag("!--no-floor", args->floor, "Skip the GEMM floor (to profile the steps alone)");
  cmd->add_flag("--json", args->json, "Print the figures as one JSON object");
  cmd->footer(
      "Figures: compile time (median of 5 compiles); step time min/median/max; steps/s; GFLOP/s counting\n"
      "2*m*n*k for each matmul/affine of the plan; arena, lower-bound and naive bytes; the GEMM floor: the\n"
      "plan's matrix products alone, at the same shapes and transposes, back to back through CBLAS, through\n"
      "the plan's own GEMM kernels and through each backend; the one-core FMA peak measured on the spot and\n"
      "the step's GEMM GFLOP/s as a percentage of it (times --threads).\n\n"
      "Started by mpirun -np N (N > 1), it times the data-parallel step instead: --batch rows split over the\n"
      "ranks, the same per-rank step without gradient sums (compute), the gradients' sums alone (allreduce)\n"
      "and their difference; no GEMM floor, no --breakdown. docs/scaling.md puts the figures in a model.\n\n"
      "Examples:\n"
      "  kiln bench mlp --batch 32 --threads 1\n"
      "  kiln bench mlp --hidden 1024,1024 --batch 1024 --threads 2 --json\n"
      "  kiln bench examples/graphs/spiral.json --breakdown\n"
      "  mpirun -np 2 kiln bench mlp --batch 64 --threads 1");
  cmd->callback([args] { run_bench(*args); });
}

const bool registered = register_command(40, add_bench_command);

}  // namespace
}  // namespace kiln::cli
