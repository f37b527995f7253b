// tests/cli/progress_display_test.cpp: the training progress display: plain lines every N steps (and on the
// first and last step and a new eval loss) when not on a terminal; one line redrawn with \r on a terminal,
// padded over a longer previous line and ended by finish(); durations and rates written for people.
#include <gtest/gtest.h>

#include <sstream>

#include "progress_display.hpp"

namespace memtx_cli {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(ProgressDisplay, PlainLinesEveryNStepsWhenNotATerminal) {
  std::ostringstream out;
  ProgressDisplay display(out, /*terminal=*/false, /*every=*/10);
  for (int64_t step = 1; step <= 25; ++step) display.update(step, 25, 0, 3.0 - 0.01 * step, 3e-4, 1500, 25 - step);
  display.finish();
  const std::string text = out.str();
  // Steps 1, 10, 20 and the last one, 25: four lines, no carriage return.
  EXPECT_EQ(count(text, "\n"), 4u) << text;
  EXPECT_EQ(count(text, "\r"), 0u);
  EXPECT_NE(text.find("step 10/25 (40%) epoch 0 loss 2.9000 lr 3.00e-04 tok/s 1.50k eta 15s\n"), std::string::npos) << text;
  EXPECT_NE(text.find("step 25/25 (100%)"), std::string::npos);
  EXPECT_EQ(text.find("step 11/"), std::string::npos);
}

TEST(ProgressDisplay, ANewEvalLossIsPrintedAtOnce) {
  std::ostringstream out;
  ProgressDisplay display(out, false, 100);
  display.update(1, 1000, 0, 3.0, 1e-3, 100, 60);
  display.update(7, 1000, 0, 2.5, 1e-3, 100, 60, 2.75);
  display.update(8, 1000, 0, 2.4, 1e-3, 100, 60, 2.75);  // the same eval loss: nothing new
  const std::string text = out.str();
  EXPECT_EQ(count(text, "\n"), 2u) << text;
  EXPECT_NE(text.find("step 7/1000 (0%) epoch 0 loss 2.5000 lr 1.00e-03 tok/s 100 eta 1m00s eval_loss 2.7500\n"),
            std::string::npos)
      << text;
}

TEST(ProgressDisplay, ATerminalLineIsRedrawnInPlace) {
  std::ostringstream out;
  ProgressDisplay display(out, /*terminal=*/true, 10, /*min_redraw_seconds=*/0.0);
  display.update(1, 4, 0, 12.5, 1e-3, 2e6, 3700);
  display.update(2, 4, 0, 2.25, 1e-3, 2e6, 3700);
  EXPECT_EQ(count(out.str(), "\n"), 0u);
  EXPECT_EQ(count(out.str(), "\r"), 2u);
  display.print("checkpoint written");  // its own line, then the bar again
  display.update(4, 4, 1, 2.0, 1e-3, 2e6, 0, 2.1);
  display.finish();
  const std::string text = out.str();
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("checkpoint written\n"), std::string::npos);
  EXPECT_NE(text.find("\r 50% [############............] 2/4 ep 0 | loss 2.2500 | lr 1.00e-03 | 2.00M tok/s | eta 1h01m"),
            std::string::npos)
      << text;
  // The first line ("loss 12.5000") is one character longer than the second: one blank covers it.
  EXPECT_NE(text.find("eta 1h01m \r"), std::string::npos) << text;
  EXPECT_NE(text.find("100% [########################] 4/4 ep 1 | loss 2.0000 | lr 1.00e-03 | 2.00M tok/s | eta 0s | eval 2.1000"),
            std::string::npos);
}

TEST(ProgressDisplay, ATerminalLineIsThrottledButTheLastStepAlwaysShows) {
  std::ostringstream out;
  ProgressDisplay display(out, true, 10, /*min_redraw_seconds=*/3600.0);
  for (int64_t step = 1; step <= 50; ++step) display.update(step, 50, 0, 1.0, 1e-3, 10, 1);
  display.finish();
  const std::string text = out.str();
  EXPECT_EQ(count(text, "\r"), 3u) << text;  // step 1, step 50, and the final redraw of finish()
  EXPECT_NE(text.find("50/50"), std::string::npos);
  EXPECT_EQ(text.find("25/50"), std::string::npos);
}

TEST(ProgressDisplay, LinesAreCutToTheTerminalWidth) {
  std::ostringstream out;
  ProgressDisplay display(out, true, 10, 0.0, /*columns=*/40);
  display.update(3, 10, 0, 1.0, 1e-3, 10, 1);
  EXPECT_EQ(out.str().size(), 1u + 39u);
}

TEST(ProgressDisplay, DurationsAndRatesReadWell) {
  EXPECT_EQ(ProgressDisplay::format_duration(-1), "?");
  EXPECT_EQ(ProgressDisplay::format_duration(44.6), "45s");
  EXPECT_EQ(ProgressDisplay::format_duration(185), "3m05s");
  EXPECT_EQ(ProgressDisplay::format_duration(3720), "1h02m");
  EXPECT_EQ(ProgressDisplay::format_duration(2 * 86400 + 3 * 3600), "2d03h");
  EXPECT_EQ(ProgressDisplay::format_rate(950), "950");
  EXPECT_EQ(ProgressDisplay::format_rate(12345), "12.3k");
  EXPECT_EQ(ProgressDisplay::format_rate(1.2e6), "1.20M");
  ProgressInfo unknown_total;
  unknown_total.step = 12;
  EXPECT_EQ(ProgressDisplay::bar_line(unknown_total).rfind("step 12 ep 0", 0), 0u);
}

}  // namespace
}  // namespace memtx_cli
