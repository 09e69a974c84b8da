#pragma once
// What `kiln train` shows while it runs. On a terminal: a bar redrawn in
// place (at most ten times a second) with the epoch, steps/s, the running
// loss and the ETA, and the per-epoch lines scrolling above it. Elsewhere
// (a pipe, a log file): only the per-epoch lines, so logs stay readable.
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace kiln::cli {

class Progress {
 public:
  // `total_steps` across the whole run; `interactive` draws the bar.
  Progress(std::ostream& out, bool interactive, std::int64_t total_steps);

  // After each step: `done` steps so far in this run, the epoch in progress
  // and the mean loss of its steps so far.
  void step(std::int64_t done, std::int64_t epoch, double running_loss);
  // A permanent line (e.g. an epoch's summary), printed above the bar.
  void line(const std::string& text);
  // Clears the bar, before the closing lines.
  void finish();

  // True when `fd` is a terminal.
  static bool is_terminal(int fd);

 private:
  void clear_bar();

  std::ostream& out_;
  bool interactive_;
  std::int64_t total_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool bar_shown_ = false;
};

}  // namespace kiln::cli
