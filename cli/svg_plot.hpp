// cli/svg_plot.hpp: a small SVG line-chart writer for `memtx-cli plot`: a figure of stacked panels, each with
// line and marker series, "nice" axis ticks (steps of 1, 2, 2.5 or 5 times a power of ten), grid, axis
// labels, a legend and optional vertical marks (epoch boundaries). Data map linearly into a panel's plot
// area:  px = left + (x - x.lo) / (x.hi - x.lo) * width,   py = top + (y.hi - y) / (y.hi - y.lo) * height.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace memtx_cli::svg {

using Point = std::pair<double, double>;  // (x, y) in data units

struct Series {
  std::string label;          // legend text
  std::string color;          // CSS colour
  std::vector<Point> points;  // drawn in order; non-finite points are skipped
  bool line = true;           // a polyline through the points
  bool markers = false;       // a circle on each point
};

struct VerticalMark {
  double x = 0;
  std::string label;
};

struct Panel {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  std::vector<VerticalMark> marks;
  bool x_integer = true;    // x ticks fall on whole numbers (steps)
  bool y_from_zero = false; // the y axis includes 0 (learning rates)
  bool legend = true;       // a legend of the series with points, top right in the plot area
  double height = 320;      // pixels for the panel: title, plot area and axis labels
  std::string empty_text = "no data";  // shown when no series has a point
};

struct Figure {
  std::string title;
  std::string subtitle;
  double width = 900;
  std::vector<Panel> panels;
};

// Layout in pixels (the figure's header, and each panel's margins around its plot area).
constexpr double kHeaderHeight = 56;
constexpr double kMarginLeft = 84;
constexpr double kMarginRight = 24;
constexpr double kMarginTop = 30;
constexpr double kMarginBottom = 52;

struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  std::vector<double> ticks;  // lo, lo + step, ..., hi
};

// The axis covering [lo, hi] with about target ticks; lo and hi are rounded out to multiples of the step.
// A zero-width range is widened; integer keeps the step at 1 or more; from_zero extends the range to 0.
Axis nice_axis(double lo, double hi, int target = 6, bool integer = false, bool from_zero = false);
// A tick value written with the decimals its step needs ("0.25", "1500", "3e-4", "2.5e-4").
std::string format_tick(double value, double step);

struct PlotArea {
  double left = 0, top = 0, width = 0, height = 0;
  Axis x, y;
  double px(double x_value) const;
  double py(double y_value) const;
};

// The plot area of each panel (axes from its data), in panel order.
std::vector<PlotArea> layout(const Figure& figure);
// The whole document. Throws std::invalid_argument when the figure has no panel.
std::string render_svg(const Figure& figure);
// Text with &, <, >, " escaped for XML.
std::string xml_escape(const std::string& text);
// A coordinate as written in the document: two decimals ("425.00").
std::string coord(double v);

}  // namespace memtx_cli::svg
