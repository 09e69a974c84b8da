#pragma once
// Stopping a training run cleanly on SIGINT (Ctrl-C) or SIGTERM: while an
// InterruptWatch lives, those signals only set a flag (the one thing a
// handler may safely do); the training loop polls it between steps, finishes
// what it was doing, saves, and exits with 128 + the signal number.
#include <csignal>

namespace kiln::train {

class InterruptWatch {
 public:
  InterruptWatch();   // installs the handlers
  ~InterruptWatch();  // restores the previous ones
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  // The signal received (SIGINT or SIGTERM), or 0.
  int signal() const;
  // "SIGINT", "SIGTERM".
  static const char* name(int signal);

 private:
  struct sigaction previous_int_, previous_term_;
};

}  // namespace kiln::train
