// kiln train [MODEL] [options]: train a built-in model or a graph file on a
// dataset, with a run log, curves, a summary and checkpoints. The loop
// itself is the public C++ training API (frontends/train/train.hpp) used the
// way docs/training.md shows; what this file adds is options, reporting,
// checkpointing and clean interruption.
//
// Started by `mpirun -np N`, the same command trains data-parallel: every
// rank runs this file with its share of each batch (the plan sums the
// gradients), rank 0 alone prints and writes files, and every decision that
// ends the loop (a signal, an error before training) is agreed on by all
// ranks, so none waits forever for another.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "frontends/json.hpp"
#include "frontends/data/load.hpp"
#include "frontends/models.hpp"
#include "frontends/train/train.hpp"
#include "graph/error.hpp"
#include "onnx_flags.hpp"
#include "output_files.hpp"
#include "progress.hpp"
#include "runtime/checkpoint.hpp"
#include "runtime/comm/broadcast_params.hpp"
#include "runtime/comm/communicator.hpp"
#include "runtime/plan.hpp"
#include "runtime/plan_memory.hpp"
#include "runtime/threads.hpp"

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct TrainArgs {
  std::string model;
  std::optional<std::string> data, test, batch, optimizer, init, scale, eval_every;
  std::optional<std::int64_t> val_split, epochs, print_every;
  std::optional<double> lr, momentum, weight_decay;
  std::uint64_t seed = 0;
  bool no_shuffle = false, no_fuse = false, standardize = false, check_numerics = false;
  std::optional<int> threads;
  std::string hidden, log, plot, save, load, summary, max_memory;
  OnnxFlags onnx;  // --loss, --labels for an .onnx model; --batch is the run's
};

// Everything the run decided, once defaults and options are merged.
struct Settings {
  train::DataOptions data;
  std::int64_t epochs = 0;
  std::int64_t eval_every = 1;
  OptimizerOptions optimizer;
  std::optional<Init> init;
  bool shuffle = true, fuse = true;
};

std::string number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Found out before training, not after an hour of it.
void check_output_path(const std::string& option, const std::string& path) {
  if (path.empty()) return;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent))
    throw Error(option + " '" + path + "': the directory '" + parent.string() + "' does not exist");
  if (fs::is_directory(path)) throw Error(option + " '" + path + "' is a directory; expected a file name");
}

// The whole of `text` as an integer of at least 1, or nullopt.
std::optional<std::int64_t> positive_integer(const std::string& text) {
  std::int64_t n = 0;
  std::size_t used = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != text.size() || n < 1) return std::nullopt;
  return n;
}

std::int64_t parse_batch(const std::string& text, std::int64_t full) {
  if (text == "full") return full;
  const std::optional<std::int64_t> n = positive_integer(text);
  if (!n) throw Error("--batch '" + text + "': expected a positive number of rows or 'full'");
  return *n;
}

// Evaluating every row of every split costs 0.35 to 0.8 of a training epoch
// for each built-in model (measured on an AVX2 machine; docs/training.md),
// so every 5th epoch keeps it under a fifth of a run; a long run gets about
// 30 evaluations, as it gets about 30 printed lines.
std::int64_t default_eval_every(std::int64_t epochs) { return std::max<std::int64_t>(5, (epochs + 29) / 30); }

std::int64_t parse_eval_every(const std::string& text) {
  const std::optional<std::int64_t> n = positive_integer(text);
  if (!n) throw Error("--eval-every '" + text + "': expected a positive number of epochs");
  return *n;
}

std::string optimizer_description(const OptimizerOptions& o) {
  std::string s = std::string(optimizer_name(o.kind)) + " lr " + number(o.lr);
  if (o.kind == OptimizerOptions::Kind::momentum) s += " momentum " + number(o.momentum);
  if (o.kind == OptimizerOptions::Kind::adam)
    s += " beta1 " + number(o.beta1) + " beta2 " + number(o.beta2) + " eps " + number(o.eps);
  if (o.weight_decay > 0) s += " weight decay " + number(o.weight_decay);
  return s;
}

std::string rows_line(const std::string& what, const std::optional<data::Dataset>& d) {
  return d ? what + " " + std::to_string(d->rows) : what + " none";
}

// The accuracy column of an epoch line; "-" when the split is absent.
std::string accuracy_text(const std::optional<double>& a) {
  if (!a) return "-";
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.4f", *a);
  return buffer;
}

// Where the ranks that do not lead write what rank 0 alone shows.
std::ostream& discarded_output() {
  static std::ostream nowhere(nullptr);
  return nowhere;
}

class TrainRun {
 public:
  explicit TrainRun(const TrainArgs& args) : args_(args) {}
  void run();

 private:
  void prepare();
  void prepare_on_every_rank();
  int agreed_signal(int own) const;
  double step(std::int64_t epoch, const train::TrainingState& state);
  void train_loop(const train::InterruptWatch& watch);
  bool leader() const { return rank_ == 0; }
  std::ostream& out() const { return leader() ? std::cout : discarded_output(); }
  void print_header() const;
  std::map<std::string, std::string> options_metadata() const;
  void save(const train::TrainingState& state);
  void evaluate(train::EpochRecord& record);
  void write_reports(const std::string& status);
  [[noreturn]] void stop_for_signal(int signal, const train::TrainingState& state, std::int64_t end_epoch);

  const TrainArgs& args_;
  std::shared_ptr<Communicator> world_;  // nullptr: one process
  int rank_ = 0, ranks_ = 1;
  std::int64_t global_batch_ = 0;  // nodes_.batch rows on each of the ranks
  std::int64_t print_every_ = 1;
  train::ModelSource model_;
  Settings settings_;
  train::PreparedData data_;
  Graph train_graph_;
  train::ClassifierNodes nodes_;
  std::optional<Plan> plan_;
  std::unique_ptr<train::Evaluator> evaluator_;
  train::TrainingState state_;  // as loaded (or fresh)
  std::vector<train::EpochRecord> records_;
  std::optional<train::Metrics> last_train_, last_val_, last_test_;
  std::int64_t steps_run_ = 0;
  double eval_seconds_ = 0;
  Clock::time_point start_;
  Clock::time_point last_save_;
};

void TrainRun::prepare() {
  model_ = train::load_model(args_.model.empty() ? std::string(train::kDefaultModel) : args_.model, args_.hidden,
                      args_.weight_decay, args_.onnx.options());
  // A graph file given one of the built-ins' datasets trains by that
  // dataset's classic recipe; on other data, by the generic one.
  const bool dataset_recipe = !model_.builtin && args_.data && !train::recipe_model_for_data(*args_.data).empty();
  const train::Recipe recipe = train::default_recipe(model_.builtin ? model_.name
                                                     : dataset_recipe ? train::recipe_model_for_data(*args_.data)
                                                                      : "");
  settings_.data.spec = args_.data.value_or(recipe.data);
  settings_.data.test_spec = args_.test.value_or("");
  // The recipe's hold-out and scaling belong to the recipe's data.
  const bool recipe_data = !args_.data || dataset_recipe;
  settings_.data.val_split = args_.val_split.value_or(recipe_data ? recipe.val_split : 0);
  settings_.data.standardize = args_.standardize;
  settings_.data.seed = args_.seed;
  if (args_.scale)
    settings_.data.scale = train::parse_scale(*args_.scale);
  else if (recipe_data)
    settings_.data.scale = recipe.scale;
  settings_.epochs = args_.epochs.value_or(recipe.epochs);
  if (settings_.epochs < 1) throw Error("--epochs " + std::to_string(settings_.epochs) + ": expected at least 1");
  settings_.eval_every = args_.eval_every ? parse_eval_every(*args_.eval_every) : default_eval_every(settings_.epochs);
  print_every_ = args_.print_every.value_or(settings_.epochs <= 60 ? 1 : (settings_.epochs + 29) / 30);
  if (print_every_ < 1) throw Error("--print-every " + std::to_string(print_every_) + ": expected at least 1");
  settings_.optimizer = recipe.optimizer;
  if (args_.optimizer) settings_.optimizer.kind = parse_optimizer(*args_.optimizer);
  if (args_.lr) settings_.optimizer.lr = *args_.lr;
  if (args_.momentum) settings_.optimizer.momentum = *args_.momentum;
  // A built-in model puts weight decay in its loss (load_model); a graph
  // file gets it from the optimizer, on every param.
  if (args_.weight_decay && !model_.builtin) settings_.optimizer.weight_decay = *args_.weight_decay;
  if (args_.init) settings_.init = train::parse_init(*args_.init);
  settings_.shuffle = !args_.no_shuffle;
  settings_.fuse = !args_.no_fuse;
  for (const auto& [option, path] : {std::pair{"--log", args_.log}, {"--plot", args_.plot}, {"--save", args_.save},
                                     {"--summary-json", args_.summary}})
    check_output_path(option, path);
  if (args_.threads) set_threads(*args_.threads);

  data_ = train::prepare_data(settings_.data);
  global_batch_ = args_.batch ? parse_batch(*args_.batch, data_.train.rows)
                  : model_.builtin || dataset_recipe ? recipe.batch.value_or(data_.train.rows)
                                   : train::find_classifier_nodes(model_.graph, model_.name).batch;
  const std::int64_t batch = train::rows_per_rank(global_batch_, ranks_);
  train_graph_ = train::edit_graph(model_.graph, {.batch = batch, .init = settings_.init, .drop_loss = false});
  nodes_ = train::find_classifier_nodes(train_graph_, model_.name);
  train::check_fits(data_.train, nodes_, model_.name);
  if (data_.val) train::check_fits(*data_.val, nodes_, model_.name);
  if (data_.test) train::check_fits(*data_.test, nodes_, model_.name);

  PlanOptions options;
  options.compile.fuse = settings_.fuse;
  options.optimizer = settings_.optimizer;
  options.seed = args_.seed;
  options.check_numerics = args_.check_numerics;
  if (!args_.max_memory.empty()) options.max_memory_bytes = parse_byte_size(args_.max_memory);
  if (ranks_ > 1) options.communicator = world_;
  plan_.emplace(compile(train_graph_, options));

  if (!args_.load.empty()) {
    const Checkpoint checkpoint = read_checkpoint(args_.load);
    load_checkpoint_into(args_.load, plan_->params());
    state_ = train::state_from_metadata(checkpoint.metadata, args_.load);
  }
  const std::int64_t largest = std::max({data_.train.rows, data_.val ? data_.val->rows : 0, data_.test ? data_.test->rows : 0});
  evaluator_ = std::make_unique<train::Evaluator>(train_graph_, plan_->shared_params(),
                                                  std::min<std::int64_t>(std::max<std::int64_t>(batch, 1024), largest),
                                                  settings_.fuse);
}

// A bad option or file fails on every rank alike, and rank 0 reports it; a
// failure on some ranks only (a file another machine lacks) is reported by
// the rank that met it. Either way every rank stops here, together, instead
// of waiting at the first collective for one that is gone.
void TrainRun::prepare_on_every_rank() {
  if (!world_) return prepare();
  std::exception_ptr failure;
  try {
    prepare();
  } catch (...) {
    failure = std::current_exception();
  }
  double failed[2] = {leader() && failure ? 1.0 : 0.0, failure ? 1.0 : 0.0};  // rank 0, any rank
  world_->allreduce_sum(failed, 2, DType::f64);
  if (failed[1] == 0) return;
  if (failure && leader()) std::rethrow_exception(failure);
  if (failure && failed[0] == 0) {
    try {
      std::rethrow_exception(failure);
    } catch (const Error& e) {
      throw Error("rank " + std::to_string(rank_) + ": " + e.what());
    }
  }
  std::exit(2);  // another rank reports it; MPI is finalised at exit
}

// The signal (SIGINT before SIGTERM) any rank received: the same answer on
// every rank, so all stop at the same point.
int TrainRun::agreed_signal(int own) const {
  if (!world_) return own;
  double received[2] = {own == SIGINT ? 1.0 : 0.0, own == SIGTERM ? 1.0 : 0.0};
  world_->allreduce_sum(received, 2, DType::f64);
  return received[0] > 0 ? SIGINT : received[1] > 0 ? SIGTERM : 0;
}

void TrainRun::print_header() const {
  const data::Dataset& t = data_.train;
  std::ostringstream h;
  h << "kiln train: model " << model_.name << " (" << parameter_count(train_graph_) << " params)";
  if (world_) h << " on " << ranks_ << " MPI rank" << (ranks_ == 1 ? "" : "s");
  h << "\n"
    << "  data       " << settings_.data.spec << ": train " << t.rows << ", " << rows_line("val", data_.val) << ", "
    << rows_line("test", data_.test) << " rows; " << t.features << " features, " << nodes_.classes << " classes\n"
    << "  scaling    " << data_.scaling << "\n"
    << "  optimizer  " << optimizer_description(settings_.optimizer) << "\n"
    << "  init       " << (settings_.init ? train::init_to_string(*settings_.init) : "the model's") << ", seed "
    << args_.seed << "\n"
    << "  batches    " << global_batch_ << " rows" << (global_batch_ == t.rows ? " (full batch)" : "");
  if (world_) h << " = " << ranks_ << " rank" << (ranks_ == 1 ? "" : "s") << " x " << nodes_.batch;
  h << ", " << t.rows / global_batch_ << (t.rows / global_batch_ == 1 ? " step" : " steps") << " per epoch, "
    << (settings_.shuffle ? "shuffled" : "in order") << "\n"
    << "  plan       " << (settings_.fuse ? "fused" : "unfused") << ", " << plan_->kernel_calls()
    << " kernel calls per step, arena " << plan_->memory().arena_bytes << " bytes, " << threads() << " thread"
    << (threads() == 1 ? "" : "s") << "\n";
  if (!args_.load.empty())
    h << "  resumed    from " << args_.load << " at epoch " << state_.epoch << ", batch " << state_.batch_in_epoch
      << " (step " << state_.step << ")\n";
  h << "  epochs     " << settings_.epochs << " (epochs " << state_.epoch << ".." << state_.epoch + settings_.epochs - 1
    << ")\n";
  out() << h.str() << std::flush;
}

std::map<std::string, std::string> TrainRun::options_metadata() const {
  std::map<std::string, std::string> m;
  m["format"] = "kiln training checkpoint 1";
  m["model"] = model_.builtin ? model_.name : model_.path;
  m["hidden"] = args_.hidden;
  m["data"] = settings_.data.spec;
  m["test"] = settings_.data.test_spec;
  m["val_split"] = std::to_string(settings_.data.val_split);
  if (settings_.data.scale) {
    char hex[64];
    std::snprintf(hex, sizeof hex, "%a", *settings_.data.scale);
    m["scale"] = hex;
  }
  m["standardize"] = settings_.data.standardize ? "true" : "false";
  m["seed"] = std::to_string(args_.seed);
  m["batch"] = std::to_string(global_batch_);
  m["optimizer"] = optimizer_description(settings_.optimizer);
  m["init"] = settings_.init ? train::init_to_string(*settings_.init) : "model";
  m["shuffle"] = settings_.shuffle ? "true" : "false";
  m["fuse"] = settings_.fuse ? "true" : "false";
  if (args_.weight_decay) m["weight_decay"] = number(*args_.weight_decay);
  return m;
}

void TrainRun::save(const train::TrainingState& state) {
  if (args_.save.empty() || !leader()) return;
  save_checkpoint(args_.save, plan_->params(), train::state_metadata(state, options_metadata()));
  last_save_ = Clock::now();
}

void TrainRun::evaluate(train::EpochRecord& record) {
  const Clock::time_point began = Clock::now();
  last_train_ = evaluator_->evaluate(data_.train, world_.get());
  record.train_accuracy = last_train_->accuracy();
  if (data_.val) {
    last_val_ = evaluator_->evaluate(*data_.val, world_.get());
    record.val_accuracy = last_val_->accuracy();
  }
  if (data_.test) {
    last_test_ = evaluator_->evaluate(*data_.test, world_.get());
    record.test_accuracy = last_test_->accuracy();
  }
  eval_seconds_ += std::chrono::duration<double>(Clock::now() - began).count();
}

void TrainRun::write_reports(const std::string& status) {
  if (!leader()) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  if (!args_.log.empty()) write_file_atomically(args_.log, train::run_log_csv(records_));
  if (!args_.plot.empty())
    write_file_atomically(args_.plot, train::curves_svg(records_, "kiln train " + model_.name + " on " +
                                                                      settings_.data.spec + ": " +
                                                                      optimizer_description(settings_.optimizer)));
  if (!args_.summary.empty()) {
    train::RunSummary s;
    s.model = model_.name;
    s.data = settings_.data.spec;
    s.optimizer = optimizer_description(settings_.optimizer);
    s.status = status;
    s.epochs = static_cast<std::int64_t>(records_.size());
    s.total_epochs = records_.empty() ? state_.epoch : records_.back().epoch + 1;
    s.steps = steps_run_;
    s.ranks = ranks_;
    s.batch_per_rank = nodes_.batch;
    s.seconds = seconds;
    s.eval_seconds = eval_seconds_;
    if (!records_.empty()) s.final_loss = records_.back().loss;
    if (last_train_) s.train_accuracy = last_train_->accuracy(), s.train_loss = last_train_->mean_loss();
    if (last_val_) s.val_accuracy = last_val_->accuracy(), s.val_loss = last_val_->mean_loss();
    if (last_test_) s.test_accuracy = last_test_->accuracy(), s.test_loss = last_test_->mean_loss();
    write_file_atomically(args_.summary, train::summary_json(s));
  }
}

void TrainRun::stop_for_signal(int signal, const train::TrainingState& state, std::int64_t end_epoch) {
  save(state);
  write_reports(std::string("interrupted by ") + train::InterruptWatch::name(signal));
  std::cout << std::flush;
  if (leader())
    std::cerr << "\nkiln: interrupted by " << train::InterruptWatch::name(signal) << " at epoch " << state.epoch
            << ", batch " << state.batch_in_epoch << " (step " << state.step << ")"
            << (args_.save.empty() ? "; no checkpoint written (no --save)"
                                   : "; checkpoint saved to " + args_.save + " (resume with --load " + args_.save + " --epochs " +
                                         std::to_string(end_epoch - state.epoch) + ")")
            << "\n"
            << std::flush;
  // The others wait for rank 0's files: mpirun ends every rank as soon as
  // one exits with a non-zero code. None finalises MPI: when mpirun itself
  // was signalled it is tearing the job down, and MPI_Finalize would wait
  // for its SIGKILL.
  if (world_) world_->barrier();
  std::_Exit(128 + signal);  // the files are complete; nothing else needs tearing down
}

// One step on this rank's rows; the loss of the whole batch. A non-finite
// loss is seen by every rank in the same step (the plan sums the loss before
// checking it, and before any gradient sum starts): rank 0 alone reports it.
double TrainRun::step(std::int64_t epoch, const train::TrainingState& state) {
  try {
    return plan_->step();
  } catch (const Error& e) {  // NonFiniteLoss included: nothing was updated, nothing is saved
    if (world_ && !leader() && dynamic_cast<const NonFiniteLoss*>(&e)) std::exit(2);  // MPI is finalised at exit
    throw Error("epoch " + std::to_string(epoch) + ", step " + std::to_string(state.step) + ": " + e.what());
  }
}

void TrainRun::run() {
  // Installed first and never removed: a signal at any moment of the run,
  // start-up and exit included, stops it cleanly instead of killing it.
  static train::InterruptWatch& watch = *new train::InterruptWatch;
  world_ = train::launched_world();
  if (world_) rank_ = world_->rank(), ranks_ = world_->size();
  start_ = last_save_ = Clock::now();
  prepare_on_every_rank();
  // Every rank starts from rank 0's params and optimizer state, whatever it
  // initialised or loaded itself.
  if (world_) broadcast_params(*world_, plan_->params());
  print_header();
  if (!world_) return train_loop(watch);
  try {
    train_loop(watch);
  } catch (const Error& e) {
    // Rank 0's alone (its files) or one rank's step: the others would wait
    // for this rank in their next sum forever, so it ends them all
    // (MPI_Abort) after saying why, in one write so that the lines of ranks
    // failing at once do not interleave.
    const std::string line =
        "kiln: error: " + (leader() ? std::string() : "rank " + std::to_string(rank_) + ": ") + e.what() + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    world_->abort(2);
  }
}

void TrainRun::train_loop(const train::InterruptWatch& watch) {
  if (int signal = agreed_signal(watch.signal())) stop_for_signal(signal, state_, state_.epoch + settings_.epochs);

  train::ShuffledBatches batches(data_.train, nodes_, settings_.shuffle, args_.seed, {rank_, ranks_});
  const std::int64_t per_epoch = batches.count();
  const std::int64_t first_epoch = state_.epoch, end_epoch = state_.epoch + settings_.epochs;
  // Under mpirun a rank's stdout is a pseudo-terminal whatever mpirun's own
  // is: epoch lines only, no progress bar.
  Progress progress(out(), !world_ && Progress::is_terminal(1),
                    settings_.epochs * per_epoch - std::min(state_.batch_in_epoch, per_epoch));
  start_ = last_save_ = Clock::now();
  train::TrainingState state = state_;

  for (std::int64_t epoch = first_epoch; epoch < end_epoch; ++epoch) {
    batches.start_epoch(epoch);
    double loss_sum = epoch == first_epoch ? state.epoch_loss_sum : 0.0;
    for (std::int64_t b = epoch == first_epoch ? state.batch_in_epoch : 0; b < per_epoch; ++b) {
      batches.fill(b, *plan_);
      const double loss = step(epoch, state);  // of the whole batch, every rank's rows
      // Every rank stops after the same step (this small sum's cost a step:
      // docs/scaling.md).
      const int signal = agreed_signal(watch.signal());
      if (!std::isfinite(loss))
        throw Error("epoch " + std::to_string(epoch) + ", step " + std::to_string(state.step) + ": the loss is " +
                    number(loss) + "; training stopped without saving (rerun with --check-numerics to find the node)");
      loss_sum += loss;
      ++state.step;
      ++steps_run_;
      state.epoch = epoch;
      state.batch_in_epoch = b + 1;
      state.epoch_loss_sum = loss_sum;
      progress.step(steps_run_, epoch, loss_sum / static_cast<double>(b + 1));
      if (signal) {
        progress.finish();
        stop_for_signal(signal, state, end_epoch);
      }
    }

    train::EpochRecord record;
    record.epoch = epoch;
    record.loss = loss_sum / static_cast<double>(per_epoch);
    const bool last = epoch + 1 == end_epoch;
    // Counted from epoch 0, not from a resumed run's first epoch, so that a
    // resumed run's log has the rows an uninterrupted one has; the last
    // epoch always, for the final figures.
    if (last || epoch % settings_.eval_every == 0) evaluate(record);
    record.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    records_.push_back(record);
    state = {epoch + 1, 0, state.step, 0.0};

    if (last || (epoch - first_epoch) % print_every_ == 0) {
      char line[256];
      std::snprintf(line, sizeof line, "epoch %4lld  loss %.6f  train %s  val %s  test %s  %.2fs",
                    static_cast<long long>(epoch), record.loss, accuracy_text(record.train_accuracy).c_str(),
                    accuracy_text(record.val_accuracy).c_str(), accuracy_text(record.test_accuracy).c_str(),
                    record.seconds);
      progress.line(line);
    }
    // A checkpoint at most every 10 s (and at the end), so a crash or a
    // non-finite loss later keeps a recent good one.
    if (last || Clock::now() - last_save_ >= std::chrono::seconds(10)) save(state);
    if (int signal = agreed_signal(watch.signal())) {
      progress.finish();
      stop_for_signal(signal, state, end_epoch);
    }
  }
  progress.finish();
  write_reports("completed");

  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  char done[256];
  std::snprintf(done, sizeof done, "done: %lld epochs, %lld steps in %.2f s (%.0f steps/s)",
                static_cast<long long>(settings_.epochs), static_cast<long long>(steps_run_), seconds,
                seconds > 0 ? static_cast<double>(steps_run_) / seconds : 0.0);
  out() << done << "\n";
  const train::EpochRecord& final_record = records_.back();
  out() << "final: loss " << number(final_record.loss) << ", train accuracy "
            << accuracy_text(final_record.train_accuracy) << ", val accuracy "
            << accuracy_text(final_record.val_accuracy) << ", test accuracy "
            << accuracy_text(final_record.test_accuracy) << "\n";
  for (const auto& [option, path] : {std::pair{"checkpoint", args_.save}, {"log", args_.log}, {"plot", args_.plot},
                                     {"summary", args_.summary}})
    if (!path.empty()) out() << "wrote " << option << " " << path << "\n";
}

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a model (default: logistic regression on the embedded digits)");
  std::string models;
  for (const std::string& m : model_names()) models += (models.empty() ? "" : ", ") + m;
  cmd->add_option("MODEL", args->model,
                  "a built-in model (" + models + "; default " + std::string(train::kDefaultModel) +
                      ") or a graph file (.json) with a loss, or an ONNX model (.onnx)")
      ->type_name("MODEL");
  cmd->add_option("--data", args->data, std::string("dataset (default: the model's; a graph or ONNX file given digits, fashion-mnist, spiral or moons "
                              "trains by the recipe of the built-in model for that data):\n") + data::kDatasetSpecHelp)
      ->type_name("SPEC");
  cmd->add_option("--test", args->test, "test rows from another dataset spec (its test part, else its rows)")
      ->type_name("SPEC");
  cmd->add_option("--val-split", args->val_split, "hold out the last N training rows for validation")->type_name("N");
  cmd->add_option("--epochs", args->epochs, "epochs to run (after a --load: more epochs)")->type_name("N");
  cmd->add_option("--batch", args->batch,
                  "rows per step, or 'full' for the whole training set (under mpirun: of all the ranks together)")
      ->type_name("N|full");
  cmd->add_option("--lr", args->lr, "learning rate")->type_name("RATE");
  cmd->add_option("--optimizer", args->optimizer, "sgd, momentum or adam")->type_name("NAME");
  cmd->add_option("--momentum", args->momentum, "momentum (v = m*v + g; p -= lr*v)")->type_name("M");
  cmd->add_option("--weight-decay", args->weight_decay,
                  "L2 penalty 0.5*L*|W|^2: in the loss, on the weights, for a built-in model; as the optimizer's "
                  "decay (L*p added to every gradient) for a graph file")
      ->type_name("L");
  cmd->add_option("--init", args->init,
                  "initialise every param with: zeros, he, xavier, normal:STD, uniform:LOW,HIGH, constant:VALUE")
      ->type_name("KIND");
  cmd->add_option("--seed", args->seed, "seed for data splits, shuffling and initialisation")->capture_default_str();
  cmd->add_flag("--no-shuffle", args->no_shuffle, "take the training rows in order every epoch");
  cmd->add_flag("--no-fuse", args->no_fuse, "compile without fusion (for comparison)");
  cmd->add_option("--threads", args->threads, "threads for the GEMMs")->type_name("N");
  cmd->add_option("--log", args->log,
                  "per-epoch CSV: epoch,loss,train_accuracy,val_accuracy,test_accuracy,seconds")
      ->type_name("FILE.csv");
  cmd->add_option("--plot", args->plot, "loss and accuracy curves")->type_name("FILE.svg");
  cmd->add_option("--save", args->save, "checkpoint (params, optimizer state, progress), safetensors")
      ->type_name("CKPT");
  cmd->add_option("--load", args->load, "resume from a checkpoint written by --save")->type_name("CKPT");
  cmd->add_option("--summary-json", args->summary,
                  "final loss and accuracies, epochs, steps, seconds (eval_seconds of them evaluating), steps/s")
      ->type_name("FILE");
  cmd->add_option("--scale", args->scale, "multiply every feature, e.g. 1/255")->type_name("FACTOR");
  cmd->add_flag("--standardize", args->standardize, "standardise features (mean/std of the training rows)");
  add_onnx_flags(cmd, args->onnx, /*with_batch=*/false);
  cmd->add_option("--hidden", args->hidden, "hidden layer sizes of a built-in model, e.g. 100,200")->type_name("N,N");
  cmd->add_flag("--check-numerics", args->check_numerics,
                "check every node's output for NaN/Inf each step and stop at the first bad one (SGD weight "
                "gradients then stay separate nodes, checked before their update)");
  cmd->add_option("--max-memory", args->max_memory,
                  "refuse a plan that needs more (arena + params + optimizer state): bytes, or with K, M, G, T "
                  "(binary), e.g. 512M; default half of physical memory")
      ->type_name("SIZE");
  cmd->add_option("--eval-every", args->eval_every,
                  "evaluate every split after epochs 0, N, 2N, ... and the last; other epochs show '-' and empty "
                  "CSV cells for their accuracies (default: 5, or epochs/30 rounded up when larger)")
      ->type_name("N");
  cmd->add_option("--print-every", args->print_every,
                  "print every Nth epoch's line (default: every epoch up to 60 epochs, else about 30 lines)")
      ->type_name("N");
  cmd->footer(
      "Defaults per model reproduce the classic examples: logreg (digits, 301 full-batch epochs, lr 0.01),\n"
      "mlp (fashion-mnist, 25 epochs, batch 32, lr 0.1, 1/255), spiral-net (10000 full-batch steps, lr 1.0),\n"
      "moons-net (1000 full-batch steps, momentum 0.99, lr 0.01). Epochs are numbered from 0.\n"
      "SIGINT/SIGTERM finish the current step, save (with --save) and exit 130/143.\n"
      "Started by mpirun -np N, it trains data-parallel: each rank takes 1/N of every batch, rank 0 alone\n"
      "prints and writes files, and the checkpoint is the one a single process writes (docs/training.md).\n\n"
      "Examples:\n"
      "  kiln train\n"
      "  kiln train spiral-net --log spiral.csv --plot spiral.svg\n"
      "  kiln train mlp --epochs 2 --save mlp.safetensors && kiln train mlp --load mlp.safetensors --epochs 2\n"
      "  mpirun -np 2 kiln train mlp --batch 64 --threads 1 --save mlp.safetensors");
  cmd->callback([args] { TrainRun(*args).run(); });
}

const bool registered = register_command(10, add_train_command);

}  // namespace
}  // namespace kiln::cli
