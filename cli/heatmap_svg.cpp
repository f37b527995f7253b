// cli/heatmap_svg.cpp: the SVG heat map writer (see heatmap_svg.hpp): colour scale, cell text, grid, axis
// labels, title and colour bar.
#include "heatmap_svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "svg_plot.hpp"

namespace memtx_cli::svg {

namespace {

struct Rgb {
  double r, g, b;
};

constexpr Rgb kLow{0xd7, 0x30, 0x27}, kMid{0xfe, 0xe0, 0x8b}, kHigh{0x1a, 0x98, 0x50};

Rgb mix(const Rgb& a, const Rgb& b, double t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

Rgb scale(double v) {
  v = std::clamp(v, 0.0, 1.0);
  return v <= 0.5 ? mix(kLow, kMid, v / 0.5) : mix(kMid, kHigh, (v - 0.5) / 0.5);
}

std::string hex(const Rgb& c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(std::lround(c.r)), static_cast<int>(std::lround(c.g)),
                static_cast<int>(std::lround(c.b)));
  return buf;
}

// Dark text on light cells, white on dark ones (perceived luminance).
std::string text_color(double v) {
  if (std::isnan(v)) return "#444444";
  const Rgb c = scale(v);
  return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b < 150 ? "#ffffff" : "#222222";
}

void text(std::ostringstream& out, double x, double y, const std::string& body, const std::string& attrs) {
  out << "<text x=\"" << coord(x) << "\" y=\"" << coord(y) << "\" " << attrs << ">" << xml_escape(body) << "</text>\n";
}

}  // namespace

std::string heat_color(double value) { return std::isnan(value) ? "#d9d9d9" : hex(scale(value)); }

std::string heat_text(double value) {
  if (std::isnan(value)) return "n/a";
  return std::to_string(std::lround(std::clamp(value, 0.0, 1.0) * 100.0)) + "%";
}

std::string render_heatmap_svg(const Heatmap& h) {
  if (h.rows.empty() || h.columns.empty()) throw std::invalid_argument("a heat map needs at least one row and one column");
  if (h.values.size() != h.rows.size())
    throw std::invalid_argument("heat map values have " + std::to_string(h.values.size()) + " rows, expected " +
                                std::to_string(h.rows.size()));
  for (size_t r = 0; r < h.values.size(); ++r) {
    if (h.values[r].size() != h.columns.size())
      throw std::invalid_argument("heat map row " + std::to_string(r) + " has " + std::to_string(h.values[r].size()) +
                                  " values, expected " + std::to_string(h.columns.size()));
  }
  const double grid_w = h.cell_width * static_cast<double>(h.columns.size());
  const double grid_h = h.cell_height * static_cast<double>(h.rows.size());
  const double width = kHeatLeft + grid_w + kHeatRight, height = kHeatTop + grid_h + kHeatBottom;
  const double right = kHeatLeft + grid_w, bottom = kHeatTop + grid_h;

  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << coord(width) << "\" height=\"" << coord(height)
      << "\" viewBox=\"0 0 " << coord(width) << " " << coord(height)
      << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\" fill=\"#222222\">\n";
  out << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  text(out, width / 2, 26, h.title, "class=\"title\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\"");
  if (!h.subtitle.empty()) text(out, width / 2, 46, h.subtitle, "class=\"subtitle\" text-anchor=\"middle\" fill=\"#555555\"");

  // Cells with their values.
  for (size_t r = 0; r < h.rows.size(); ++r) {
    for (size_t c = 0; c < h.columns.size(); ++c) {
      const double v = h.values[r][c];
      const double x = kHeatLeft + h.cell_width * static_cast<double>(c), y = kHeatTop + h.cell_height * static_cast<double>(r);
      out << "<rect class=\"cell\" x=\"" << coord(x) << "\" y=\"" << coord(y) << "\" width=\"" << coord(h.cell_width)
          << "\" height=\"" << coord(h.cell_height) << "\" fill=\"" << heat_color(v) << "\" stroke=\"white\" stroke-width=\"2\"/>\n";
      text(out, x + h.cell_width / 2, y + h.cell_height / 2 + 5, heat_text(v),
           "class=\"cell-value\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" fill=\"" + text_color(v) + "\"");
    }
  }

  // Axes: column labels below, row labels left, axis titles.
  for (size_t c = 0; c < h.columns.size(); ++c)
    text(out, kHeatLeft + h.cell_width * (static_cast<double>(c) + 0.5), bottom + 18, h.columns[c],
         "class=\"x-tick\" text-anchor=\"middle\"");
  for (size_t r = 0; r < h.rows.size(); ++r)
    text(out, kHeatLeft - 8, kHeatTop + h.cell_height * (static_cast<double>(r) + 0.5) + 4, h.rows[r],
         "class=\"y-tick\" text-anchor=\"end\"");
  text(out, kHeatLeft + grid_w / 2, bottom + 44, h.x_label, "class=\"x-label\" text-anchor=\"middle\" font-size=\"13\"");
  const double ylx = 28, yly = kHeatTop + grid_h / 2;
  text(out, ylx, yly, h.y_label,
       "class=\"y-label\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 " + coord(ylx) + " " + coord(yly) + ")\"");

  // Colour bar: 100% at the top, 0% at the bottom.
  const double bx = right + 24, bw = 16;
  out << "<defs><linearGradient id=\"heat-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
      << "<stop offset=\"0\" stop-color=\"" << heat_color(0) << "\"/><stop offset=\"0.5\" stop-color=\"" << heat_color(0.5)
      << "\"/><stop offset=\"1\" stop-color=\"" << heat_color(1) << "\"/></linearGradient></defs>\n";
  out << "<rect class=\"color-bar\" x=\"" << coord(bx) << "\" y=\"" << coord(kHeatTop) << "\" width=\"" << coord(bw)
      << "\" height=\"" << coord(grid_h) << "\" fill=\"url(#heat-scale)\" stroke=\"#bbbbbb\"/>\n";
  for (double v : {0.0, 0.5, 1.0}) {
    const double y = bottom - v * grid_h;
    text(out, bx + bw + 6, y + 4, heat_text(v), "class=\"bar-tick\"");
  }
  const double lx = bx + bw + 52, ly = kHeatTop + grid_h / 2;
  text(out, lx, ly, h.legend_label,
       "class=\"bar-label\" text-anchor=\"middle\" transform=\"rotate(90 " + coord(lx) + " " + coord(ly) + ")\"");
  out << "</svg>\n";
  return out.str();
}

}  // namespace memtx_cli::svg
