// cli/progress_display.hpp: the training progress shown by `memtx-cli train`. On a terminal one line is
// redrawn in place with \r (a bar, step, loss, learning rate, tokens/s, ETA, the last eval loss), at most
// every min_redraw_seconds and always for the last step or a new eval loss; elsewhere (a log file, a pipe)
// plain lines are printed every `every` steps, on the first and the last step and on a new eval loss.
#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>

namespace memtx_cli {

struct ProgressInfo {
  int64_t step = 0;
  int64_t total_steps = 0;        // <= 0: unknown (no bar, no percentage)
  int64_t epoch = 0;
  double loss = 0;
  double lr = 0;
  double tokens_per_second = 0;
  double eta_seconds = -1;        // < 0 or not finite: unknown
  double eval_loss = std::numeric_limits<double>::quiet_NaN();   // NaN: no evaluation yet
};

class ProgressDisplay {
 public:
  // terminal: redraw in place; columns: the line is cut to columns - 1 characters (0: no limit).
  ProgressDisplay(std::ostream& out, bool terminal, int64_t every = 10, double min_redraw_seconds = 0.1,
                  int columns = 0);
  // Drawing on std::cerr / std::cout, in place when that stream is a terminal (isatty), cut to its width.
  static ProgressDisplay on_stderr(int64_t every = 10);
  static ProgressDisplay on_stdout(int64_t every = 10);

  void update(const ProgressInfo& info);
  void update(int64_t step, int64_t total_steps, int64_t epoch, double loss, double lr, double tokens_per_second,
              double eta_seconds, double eval_loss = std::numeric_limits<double>::quiet_NaN());
  // A line of its own (a checkpoint, an evaluation) that leaves the bar intact below it.
  void print(const std::string& line);
  // Ends the bar's line so that later output starts on a fresh line (call once training ends).
  void finish();

  bool terminal() const { return terminal_; }
  // The redrawn line (with the bar) and the plain line for info, without \r or \n.
  static std::string bar_line(const ProgressInfo& info, int bar_width = 24);
  static std::string plain_line(const ProgressInfo& info);
  static std::string format_duration(double seconds);  // "45s", "3m05s", "1h02m", "2d03h"; "?" when unknown
  static std::string format_rate(double per_second);   // "950", "12.3k", "1.20M"

 private:
  void draw(const std::string& text);

  std::ostream& out_;
  bool terminal_;
  int64_t every_;
  double min_redraw_seconds_;
  int columns_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;       // a bar line is on screen (terminal)
  size_t last_length_ = 0;   // its length, to blank out a longer previous line
  std::string last_text_;
  int64_t last_plain_step_ = -1;
  double last_eval_loss_ = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace memtx_cli
