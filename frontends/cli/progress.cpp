#include "progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace kiln::cli {
namespace {

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char buffer[32];
  const long s = std::lround(seconds);
  if (s >= 3600)
    std::snprintf(buffer, sizeof buffer, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%ldm%02lds", s / 60, s % 60);
  return buffer;
}

}  // namespace

Progress::Progress(std::ostream& out, bool interactive, std::int64_t total_steps)
    : out_(out), interactive_(interactive), total_(total_steps), start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

bool Progress::is_terminal(int fd) { return isatty(fd) == 1; }

void Progress::clear_bar() {
  if (bar_shown_) out_ << "\r\033[K";
  bar_shown_ = false;
}

void Progress::step(std::int64_t done, std::int64_t epoch, double running_loss) {
  if (!interactive_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  constexpr int kWidth = 28;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  char text[256];
  std::snprintf(text, sizeof text, "\r\033[K[%s] %3.0f%% epoch %lld  %.0f steps/s  loss %.4f  ETA %s", bar.c_str(),
                fraction * 100, static_cast<long long>(epoch), rate, running_loss,
                duration(rate > 0 ? static_cast<double>(total_ - done) / rate : NAN).c_str());
  out_ << text << std::flush;
  bar_shown_ = true;
}

void Progress::line(const std::string& text) {
  clear_bar();
  out_ << text << "\n" << std::flush;
}

void Progress::finish() {
  clear_bar();
  out_ << std::flush;
}

}  // namespace kiln::cli
