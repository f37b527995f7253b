// tests/cli/svg_plot_test.cpp: the SVG writer of `memtx-cli plot`: nice ticks and their text, the linear
// mapping of known data into the plot area (checked against coordinates worked out by hand), axis labels,
// legend, markers, marks, escaping and the empty-panel text.
#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

#include "svg_plot.hpp"

namespace memtx_cli::svg {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

Figure one_panel(std::vector<Series> series) {
  Figure fig;
  fig.title = "loss of a < b & c";
  fig.width = 900;
  Panel p;
  p.title = "Loss";
  p.x_label = "step";
  p.y_label = "loss (cross-entropy)";
  p.height = 320;
  p.series = std::move(series);
  fig.panels.push_back(p);
  return fig;
}

TEST(SvgPlot, NiceAxesRoundOutToTidySteps) {
  Axis a = nice_axis(0.3, 9.7, 6);
  EXPECT_DOUBLE_EQ(a.step, 2);
  EXPECT_EQ(a.ticks, (std::vector<double>{0, 2, 4, 6, 8, 10}));
  a = nice_axis(1, 3, 8, /*integer=*/true);  // step counts never get half steps
  EXPECT_EQ(a.ticks, (std::vector<double>{1, 2, 3}));
  a = nice_axis(1e-4, 3e-4, 5, false, /*from_zero=*/true);  // a learning rate axis starts at 0
  EXPECT_DOUBLE_EQ(a.lo, 0);
  EXPECT_NEAR(a.step, 1e-4, 1e-18);
  ASSERT_EQ(a.ticks.size(), 4u);
  EXPECT_NEAR(a.hi, 3e-4, 1e-18);
  a = nice_axis(5, 5, 5);  // a constant series still gets a range around it
  EXPECT_LT(a.lo, 5);
  EXPECT_GT(a.hi, 5);
  a = nice_axis(2.13, 4.61, 6);  // span 2.48 / 5 intervals -> step 0.5
  EXPECT_DOUBLE_EQ(a.step, 0.5);
  EXPECT_DOUBLE_EQ(a.lo, 2.0);
  EXPECT_DOUBLE_EQ(a.hi, 5.0);
}

TEST(SvgPlot, TickTextUsesTheDecimalsItsStepNeeds) {
  EXPECT_EQ(format_tick(0.25, 0.25), "0.25");
  EXPECT_EQ(format_tick(3.0, 0.5), "3.0");
  EXPECT_EQ(format_tick(1500, 500), "1500");
  EXPECT_EQ(format_tick(2e-4, 1e-4), "2e-4");
  EXPECT_EQ(format_tick(2.5e-4, 5e-5), "2.5e-4");
  EXPECT_EQ(format_tick(0, 1e-4), "0");
  EXPECT_EQ(format_tick(2.3005, 5e-4), "2.3005");  // a flat loss is not written in scientific notation
}

TEST(SvgPlot, KnownDataMapToTheExpectedPolylinePoints) {
  // Plot area: left 84, top 56 + 30 = 86, width 900 - 84 - 24 = 792, height 320 - 30 - 52 = 238.
  // Axes: x [0, 100] (ticks every 20), y [2, 4] (ticks every 0.5), so
  // (0, 4) -> (84, 86), (50, 3) -> (84 + 396, 86 + 119), (100, 2) -> (876, 324).
  const Figure fig = one_panel({{"train loss", "#1f77b4", {{0, 4.0}, {50, 3.0}, {100, 2.0}}, true, false}});
  const auto areas = layout(fig);
  ASSERT_EQ(areas.size(), 1u);
  EXPECT_DOUBLE_EQ(areas[0].left, 84);
  EXPECT_DOUBLE_EQ(areas[0].top, 86);
  EXPECT_DOUBLE_EQ(areas[0].width, 792);
  EXPECT_DOUBLE_EQ(areas[0].height, 238);
  EXPECT_EQ(areas[0].x.ticks, (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(areas[0].y.ticks, (std::vector<double>{2, 2.5, 3, 3.5, 4}));
  const std::string svg = render_svg(fig);
  EXPECT_NE(svg.find("points=\"84.00,86.00 480.00,205.00 876.00,324.00\""), std::string::npos) << svg;
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900.00\""), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // Axis labels, tick labels at their positions, the escaped title and the legend entry.
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_NE(svg.find(">loss (cross-entropy)</text>"), std::string::npos);
  EXPECT_NE(svg.find("<text x=\"77.00\" y=\"209.00\" class=\"y-tick\" text-anchor=\"end\">3.0</text>"), std::string::npos) << svg;
  // x ticks every 20: 60 at 84 + 0.6 * 792, 18 px below the plot area; 50 is no tick.
  EXPECT_NE(svg.find("<text x=\"559.20\" y=\"342.00\" class=\"x-tick\" text-anchor=\"middle\">60</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">50</text>"), std::string::npos);
  EXPECT_NE(svg.find(">2.5</text>"), std::string::npos);
  EXPECT_NE(svg.find(">loss of a &lt; b &amp; c</text>"), std::string::npos);
  EXPECT_NE(svg.find(">train loss</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<circle"), 0u);  // a line series has no markers
}

TEST(SvgPlot, MarkersMarksAndASecondPanelBelowTheFirst) {
  Figure fig = one_panel({{"train loss", "#1f77b4", {{0, 4.0}, {100, 2.0}}, true, false},
                          {"eval loss", "#ff7f0e", {{50, 3.5}, {100, 2.5}}, true, true}});
  fig.panels[0].marks.push_back({50, "epoch 1"});
  Panel lr;
  lr.title = "Learning rate";
  lr.y_from_zero = true;
  lr.height = 250;
  lr.series.push_back({"learning rate", "#2ca02c", {{0, 1e-4}, {100, 3e-4}}, true, false});
  fig.panels.push_back(lr);
  const auto areas = layout(fig);
  ASSERT_EQ(areas.size(), 2u);
  EXPECT_DOUBLE_EQ(areas[1].top, 56 + 320 + 30);
  EXPECT_DOUBLE_EQ(areas[1].y.lo, 0);
  const std::string svg = render_svg(fig);
  // Two eval markers plus the legend's marker; the eval point (50, 3.5) sits at (480, 86 + 0.25 * 238).
  EXPECT_EQ(count(svg, "<circle"), 3u);
  EXPECT_NE(svg.find("<circle cx=\"480.00\" cy=\"145.50\""), std::string::npos) << svg;
  EXPECT_EQ(count(svg, "class=\"mark\""), 1u);
  EXPECT_NE(svg.find(">epoch 1</text>"), std::string::npos);
  EXPECT_NE(svg.find(">2e-4</text>"), std::string::npos);  // the lr axis: 0, 2e-4, 4e-4
  EXPECT_NE(svg.find(">eval loss</text>"), std::string::npos);
  EXPECT_NE(svg.find("height=\"634.00\""), std::string::npos);  // 56 + 320 + 250 + 8
}

TEST(SvgPlot, EmptyPanelsSayTheyAreEmptyAndNonFinitePointsAreSkipped) {
  Figure fig = one_panel({{"train loss", "#1f77b4", {{0, kInf}}, true, false}});
  fig.panels[0].empty_text = "no finite loss values";
  std::string svg = render_svg(fig);
  EXPECT_NE(svg.find(">no finite loss values</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 0u);
  fig.panels[0].series[0].points = {{0, 2.0}, {1, kNaN}, {2, 1.0}};
  svg = render_svg(fig);
  EXPECT_EQ(count(svg, "<polyline"), 1u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_THROW(render_svg(Figure{}), std::invalid_argument);
}

}  // namespace
}  // namespace memtx_cli::svg
