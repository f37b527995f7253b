// tests/cli/heatmap_svg_test.cpp: the heat map writer of `memtx-cli passkey`: the colour scale at its stops
// and between them, the cell text, cell positions worked out by hand, labels, escaping, and shape errors.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "heatmap_svg.hpp"

namespace memtx_cli::svg {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

Heatmap two_by_three() {
  Heatmap h;
  h.title = "Passkey <retrieval> & more";
  h.x_label = "prompt length (tokens)";
  h.y_label = "needle depth";
  h.columns = {"256", "1024", "4096"};
  h.rows = {"0", "1"};
  h.values = {{1.0, 0.5, 0.0}, {0.25, NAN, 0.8}};
  return h;
}

TEST(HeatmapSvg, ColourScaleHitsItsStopsAndInterpolates) {
  EXPECT_EQ(heat_color(0.0), "#d73027");
  EXPECT_EQ(heat_color(0.5), "#fee08b");
  EXPECT_EQ(heat_color(1.0), "#1a9850");
  EXPECT_EQ(heat_color(-3.0), "#d73027");  // clamped
  EXPECT_EQ(heat_color(7.0), "#1a9850");
  EXPECT_EQ(heat_color(NAN), "#d9d9d9");
  // 0.25: halfway from d7,30,27 to fe,e0,8b: (215+254)/2 = 234.5 -> eb, (48+224)/2 = 136 -> 88, (39+139)/2 = 89 -> 59.
  EXPECT_EQ(heat_color(0.25), "#eb8859");
  // 0.75: halfway from fe,e0,8b to 1a,98,50: 140 -> 8c, 188 -> bc, 109.5 -> 6e.
  EXPECT_EQ(heat_color(0.75), "#8cbc6e");
}

TEST(HeatmapSvg, CellTextIsAWholePercentage) {
  EXPECT_EQ(heat_text(1.0), "100%");
  EXPECT_EQ(heat_text(0.0), "0%");
  EXPECT_EQ(heat_text(0.666), "67%");
  EXPECT_EQ(heat_text(0.1), "10%");
  EXPECT_EQ(heat_text(NAN), "n/a");
}

TEST(HeatmapSvg, CellsSitOnTheGridWithTheirColourAndValue) {
  const std::string doc = render_heatmap_svg(two_by_three());
  EXPECT_EQ(count(doc, "<rect class=\"cell\""), 6u);
  // Row 1, column 2 (value 0.8): x = 110 + 2 * 110 = 330, y = 76 + 56 = 132; its text at the centre
  // (385, 132 + 28 + 5 = 165).
  EXPECT_NE(doc.find("<rect class=\"cell\" x=\"330.00\" y=\"132.00\" width=\"110.00\" height=\"56.00\" fill=\"" +
                     heat_color(0.8) + "\""),
            std::string::npos);
  EXPECT_NE(doc.find("<text x=\"385.00\" y=\"165.00\" class=\"cell-value\""), std::string::npos);
  EXPECT_NE(doc.find(">80%</text>"), std::string::npos);
  // Row 0, column 0 (1.0) at the top-left corner, white text on dark green.
  EXPECT_NE(doc.find("<rect class=\"cell\" x=\"110.00\" y=\"76.00\""), std::string::npos);
  EXPECT_NE(doc.find("fill=\"#ffffff\">100%</text>"), std::string::npos);
  // The yellow middle gets dark text; the missing value is grey "n/a".
  EXPECT_NE(doc.find("fill=\"#222222\">50%</text>"), std::string::npos);
  EXPECT_NE(doc.find("fill=\"#d9d9d9\""), std::string::npos);
  EXPECT_NE(doc.find(">n/a</text>"), std::string::npos);
  // Size: width 110 + 3 * 110 + 120 = 560, height 76 + 2 * 56 + 64 = 252.
  EXPECT_NE(doc.find("width=\"560.00\" height=\"252.00\""), std::string::npos);
}

TEST(HeatmapSvg, AxesTitleAndColourBarAreLabelled) {
  Heatmap h = two_by_three();
  h.subtitle = "10 trials per cell";
  const std::string doc = render_heatmap_svg(h);
  EXPECT_NE(doc.find(">Passkey &lt;retrieval&gt; &amp; more</text>"), std::string::npos);
  EXPECT_NE(doc.find(">10 trials per cell</text>"), std::string::npos);
  EXPECT_NE(doc.find("class=\"x-label\" text-anchor=\"middle\" font-size=\"13\">prompt length (tokens)</text>"), std::string::npos);
  EXPECT_NE(doc.find("class=\"y-label\""), std::string::npos);
  EXPECT_NE(doc.find(">needle depth</text>"), std::string::npos);
  // Column ticks under the column centres (y = 76 + 112 + 18 = 206), row ticks left of the grid.
  EXPECT_NE(doc.find("<text x=\"275.00\" y=\"206.00\" class=\"x-tick\" text-anchor=\"middle\">1024</text>"), std::string::npos);
  EXPECT_NE(doc.find("<text x=\"102.00\" y=\"108.00\" class=\"y-tick\" text-anchor=\"end\">0</text>"), std::string::npos);
  EXPECT_EQ(count(doc, "class=\"bar-tick\""), 3u);
  EXPECT_NE(doc.find("class=\"color-bar\""), std::string::npos);
  EXPECT_NE(doc.find(">accuracy</text>"), std::string::npos);
  EXPECT_EQ(doc.rfind("</svg>\n"), doc.size() - 7);
}

TEST(HeatmapSvg, ShapeMismatchesAreErrors) {
  Heatmap h = two_by_three();
  h.values.pop_back();
  EXPECT_THROW(render_heatmap_svg(h), std::invalid_argument);
  h = two_by_three();
  h.values[1].push_back(0.1);
  EXPECT_THROW(render_heatmap_svg(h), std::invalid_argument);
  h = two_by_three();
  h.columns.clear();
  h.values = {{}, {}};
  EXPECT_THROW(render_heatmap_svg(h), std::invalid_argument);
}

}  // namespace
}  // namespace memtx_cli::svg
