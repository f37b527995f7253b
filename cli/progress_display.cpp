// cli/progress_display.cpp: the training progress line (see progress_display.hpp).
#include "progress_display.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace memtx_cli {

namespace {

std::string printf_text(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string loss_text(double v) { return std::isfinite(v) ? printf_text("%.4f", v) : (std::isnan(v) ? "nan" : "inf"); }

int terminal_columns(int fd) {
  struct winsize size {};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 0;
}

// A new evaluation result: eval_loss is a number and differs from the last one shown.
bool new_eval(double eval_loss, double last) { return !std::isnan(eval_loss) && !(eval_loss == last); }

}  // namespace

ProgressDisplay::ProgressDisplay(std::ostream& out, bool terminal, int64_t every, double min_redraw_seconds, int columns)
    : out_(out), terminal_(terminal), every_(every > 0 ? every : 1), min_redraw_seconds_(min_redraw_seconds),
      columns_(columns) {}

ProgressDisplay ProgressDisplay::on_stderr(int64_t every) {
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  return ProgressDisplay(std::cerr, tty, every, 0.1, tty ? terminal_columns(STDERR_FILENO) : 0);
}

ProgressDisplay ProgressDisplay::on_stdout(int64_t every) {
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  return ProgressDisplay(std::cout, tty, every, 0.1, tty ? terminal_columns(STDOUT_FILENO) : 0);
}

void ProgressDisplay::update(int64_t step, int64_t total_steps, int64_t epoch, double loss, double lr,
                             double tokens_per_second, double eta_seconds, double eval_loss) {
  ProgressInfo info;
  info.step = step;
  info.total_steps = total_steps;
  info.epoch = epoch;
  info.loss = loss;
  info.lr = lr;
  info.tokens_per_second = tokens_per_second;
  info.eta_seconds = eta_seconds;
  info.eval_loss = eval_loss;
  update(info);
}

void ProgressDisplay::update(const ProgressInfo& info) {
  const bool last = info.total_steps > 0 && info.step >= info.total_steps;
  const bool eval = new_eval(info.eval_loss, last_eval_loss_);
  if (!std::isnan(info.eval_loss)) last_eval_loss_ = info.eval_loss;
  if (terminal_) {
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_draw_).count();
    if (drawn_ && !last && !eval && since < min_redraw_seconds_) {
      last_text_ = bar_line(info);  // shown by the next redraw or by finish()
      return;
    }
    last_draw_ = now;
    draw(bar_line(info));
    return;
  }
  if (info.step == last_plain_step_ && !eval) return;
  if (info.step % every_ == 0 || info.step <= 1 || last || eval) {
    out_ << plain_line(info) << "\n" << std::flush;
    last_plain_step_ = info.step;
  }
}

void ProgressDisplay::draw(const std::string& text_in) {
  std::string text = text_in;
  if (columns_ > 1 && text.size() > static_cast<size_t>(columns_ - 1)) text.resize(static_cast<size_t>(columns_ - 1));
  out_ << "\r" << text;
  if (last_length_ > text.size()) out_ << std::string(last_length_ - text.size(), ' ');
  out_ << std::flush;
  last_length_ = text.size();
  last_text_ = text_in;
  drawn_ = true;
}

void ProgressDisplay::print(const std::string& line) {
  if (terminal_ && drawn_) {
    out_ << "\r" << std::string(last_length_, ' ') << "\r" << line << "\n";
    last_length_ = 0;
    draw(last_text_);
  } else {
    out_ << line << "\n" << std::flush;
  }
}

void ProgressDisplay::finish() {
  if (terminal_ && drawn_) {
    draw(last_text_);
    out_ << "\n" << std::flush;
    drawn_ = false;
    last_length_ = 0;
  }
}

std::string ProgressDisplay::bar_line(const ProgressInfo& info, int bar_width) {
  std::string text;
  if (info.total_steps > 0) {
    const double fraction = std::min(1.0, std::max(0.0, static_cast<double>(info.step) / static_cast<double>(info.total_steps)));
    const int filled = static_cast<int>(std::floor(fraction * bar_width));
    text += printf_text("%3.0f%% [", std::floor(fraction * 100)) + std::string(static_cast<size_t>(filled), '#') +
            std::string(static_cast<size_t>(bar_width - filled), '.') + "] " + std::to_string(info.step) + "/" +
            std::to_string(info.total_steps);
  } else {
    text += "step " + std::to_string(info.step);
  }
  text += " ep " + std::to_string(info.epoch) + " | loss " + loss_text(info.loss) + " | lr " + printf_text("%.2e", info.lr) +
          " | " + format_rate(info.tokens_per_second) + " tok/s | eta " + format_duration(info.eta_seconds);
  if (!std::isnan(info.eval_loss)) text += " | eval " + loss_text(info.eval_loss);
  return text;
}

std::string ProgressDisplay::plain_line(const ProgressInfo& info) {
  std::string text = "step " + std::to_string(info.step);
  if (info.total_steps > 0) {
    text += "/" + std::to_string(info.total_steps) +
            printf_text(" (%.0f%%)", std::floor(100.0 * static_cast<double>(info.step) / static_cast<double>(info.total_steps)));
  }
  text += " epoch " + std::to_string(info.epoch) + " loss " + loss_text(info.loss) + " lr " + printf_text("%.2e", info.lr) +
          " tok/s " + format_rate(info.tokens_per_second) + " eta " + format_duration(info.eta_seconds);
  if (!std::isnan(info.eval_loss)) text += " eval_loss " + loss_text(info.eval_loss);
  return text;
}

std::string ProgressDisplay::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[48];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
  }
  return buf;
}

std::string ProgressDisplay::format_rate(double per_second) {
  if (!std::isfinite(per_second) || per_second < 0) return "?";
  if (per_second < 1000) return printf_text("%.0f", per_second);
  if (per_second < 1e6) return printf_text(per_second < 1e4 ? "%.2fk" : "%.1fk", per_second / 1e3);
  return printf_text(per_second < 1e7 ? "%.2fM" : "%.1fM", per_second / 1e6);
}

}  // namespace memtx_cli
