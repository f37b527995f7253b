// cli/svg_plot.cpp: the SVG line-chart writer (see svg_plot.hpp): nice ticks, the panel layout and the
// document text (background, title, per panel: grid, tick labels, axis labels, marks, series, legend).
#include "svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace memtx_cli::svg {

namespace {

// 1, 2, 2.5, 5 or 10 times a power of ten, the smallest of those >= raw.
double nice_step(double raw) {
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  const double nf = f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 2.5 + 1e-9 ? 2.5 : f <= 5 + 1e-9 ? 5 : 10;
  return nf * p;
}

// The fewest decimals that write x exactly (up to 9).
int decimals_for(double x) {
  for (int d = 0; d < 9; ++d) {
    const double scaled = x * std::pow(10.0, d);
    if (std::fabs(scaled - std::round(scaled)) <= 1e-6 * std::max(1.0, std::fabs(scaled))) return d;
  }
  return 9;
}

std::string trim_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  bool empty() const { return !(lo <= hi); }
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

bool finite_point(const Point& p) { return std::isfinite(p.first) && std::isfinite(p.second); }

int tick_target(double pixels, double per_tick) { return std::max(3, static_cast<int>(pixels / per_tick)); }

double text_width(const std::string& s) { return 7.0 * static_cast<double>(s.size()); }  // 12px sans-serif

void text(std::ostringstream& out, double x, double y, const std::string& body, const std::string& attrs = "") {
  out << "<text x=\"" << coord(x) << "\" y=\"" << coord(y) << "\"" << (attrs.empty() ? "" : " " + attrs) << ">"
      << xml_escape(body) << "</text>\n";
}

void line(std::ostringstream& out, double x1, double y1, double x2, double y2, const std::string& attrs) {
  out << "<line x1=\"" << coord(x1) << "\" y1=\"" << coord(y1) << "\" x2=\"" << coord(x2) << "\" y2=\"" << coord(y2)
      << "\" " << attrs << "/>\n";
}

void render_panel(std::ostringstream& out, const Panel& panel, const PlotArea& a) {
  const double right = a.left + a.width, bottom = a.top + a.height;
  out << "<g class=\"panel\">\n";
  text(out, a.left, a.top - 10, panel.title, "font-size=\"14\" font-weight=\"bold\"");
  out << "<rect class=\"plot-area\" x=\"" << coord(a.left) << "\" y=\"" << coord(a.top) << "\" width=\"" << coord(a.width)
      << "\" height=\"" << coord(a.height) << "\" fill=\"#fcfcfc\" stroke=\"#bbbbbb\"/>\n";

  // Grid and tick labels.
  for (double t : a.y.ticks) {
    const double y = a.py(t);
    line(out, a.left, y, right, y, "stroke=\"#e6e6e6\"");
    line(out, a.left - 4, y, a.left, y, "stroke=\"#888888\"");
    text(out, a.left - 7, y + 4, format_tick(t, a.y.step), "class=\"y-tick\" text-anchor=\"end\"");
  }
  for (double t : a.x.ticks) {
    const double x = a.px(t);
    line(out, x, a.top, x, bottom, "stroke=\"#e6e6e6\"");
    line(out, x, bottom, x, bottom + 4, "stroke=\"#888888\"");
    text(out, x, bottom + 18, format_tick(t, a.x.step), "class=\"x-tick\" text-anchor=\"middle\"");
  }
  text(out, a.left + a.width / 2, bottom + 40, panel.x_label, "class=\"x-label\" text-anchor=\"middle\" font-size=\"13\"");
  const double ylx = a.left - 64, yly = a.top + a.height / 2;
  text(out, ylx, yly, panel.y_label,
       "class=\"y-label\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 " + coord(ylx) + " " + coord(yly) + ")\"");

  // Vertical marks (inside the x range only), labelled just above the plot area where the label clears the
  // panel title and the previous label.
  double free_from = a.left + 8.5 * static_cast<double>(panel.title.size()) + 8;
  for (const auto& m : panel.marks) {
    if (!(m.x >= a.x.lo && m.x <= a.x.hi)) continue;
    const double x = a.px(m.x);
    line(out, x, a.top, x, bottom, "class=\"mark\" stroke=\"#999999\" stroke-dasharray=\"4 3\"");
    const double half = 3.0 * static_cast<double>(m.label.size());  // 10px text
    if (x - half >= free_from && x + half <= right) {
      text(out, x, a.top - 4, m.label, "class=\"mark-label\" text-anchor=\"middle\" font-size=\"10\" fill=\"#666666\"");
      free_from = x + half + 6;
    }
  }

  // Series: lines first, then markers on top.
  bool any = false;
  for (const auto& s : panel.series) {
    std::vector<Point> pts;
    for (const auto& p : s.points)
      if (finite_point(p)) pts.push_back(p);
    if (pts.empty()) continue;
    any = true;
    if (s.line && pts.size() > 1) {
      out << "<polyline class=\"series\" fill=\"none\" stroke=\"" << s.color
          << "\" stroke-width=\"1.6\" stroke-linejoin=\"round\" points=\"";
      for (size_t i = 0; i < pts.size(); ++i) out << (i ? " " : "") << coord(a.px(pts[i].first)) << "," << coord(a.py(pts[i].second));
      out << "\"/>\n";
    }
    if (s.markers || pts.size() == 1) {
      for (const auto& p : pts)
        out << "<circle cx=\"" << coord(a.px(p.first)) << "\" cy=\"" << coord(a.py(p.second)) << "\" r=\"3.5\" fill=\""
            << s.color << "\" stroke=\"white\" stroke-width=\"1\"/>\n";
    }
  }
  if (!any) text(out, a.left + a.width / 2, a.top + a.height / 2, panel.empty_text, "text-anchor=\"middle\" fill=\"#888888\"");

  // Legend: top right inside the plot area.
  std::vector<const Series*> shown;
  for (const auto& s : panel.series)
    if (std::any_of(s.points.begin(), s.points.end(), finite_point)) shown.push_back(&s);
  if (panel.legend && !shown.empty()) {
    double widest = 0;
    for (const auto* s : shown) widest = std::max(widest, text_width(s->label));
    const double w = 44 + widest, h = 8 + 18.0 * static_cast<double>(shown.size());
    const double x0 = right - w - 8, y0 = a.top + 8;
    out << "<g class=\"legend\">\n<rect x=\"" << coord(x0) << "\" y=\"" << coord(y0) << "\" width=\"" << coord(w)
        << "\" height=\"" << coord(h) << "\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#cccccc\"/>\n";
    for (size_t i = 0; i < shown.size(); ++i) {
      const double cy = y0 + 13 + 18.0 * static_cast<double>(i);
      if (shown[i]->line) line(out, x0 + 8, cy, x0 + 30, cy, "stroke=\"" + shown[i]->color + "\" stroke-width=\"2\"");
      if (shown[i]->markers)
        out << "<circle cx=\"" << coord(x0 + 19) << "\" cy=\"" << coord(cy) << "\" r=\"3.5\" fill=\"" << shown[i]->color << "\"/>\n";
      text(out, x0 + 36, cy + 4, shown[i]->label);
    }
    out << "</g>\n";
  }
  out << "</g>\n";
}

}  // namespace

Axis nice_axis(double lo, double hi, int target, bool integer, bool from_zero) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (from_zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  if (hi - lo <= 0) {
    double pad = lo != 0 ? std::fabs(lo) * 0.1 : 1.0;
    if (integer) pad = std::max(pad, 1.0);
    lo -= pad;
    hi += pad;
    if (from_zero && lo < 0 && hi - pad >= 0) lo = 0;  // a constant positive value: keep the axis at 0
  }
  Axis axis;
  axis.step = nice_step((hi - lo) / std::max(1, target - 1));
  if (integer && axis.step < 1) axis.step = 1;
  if (integer && std::fabs(axis.step - std::round(axis.step)) > 1e-9) axis.step = nice_step(axis.step * 1.5);  // 2.5 -> 5
  axis.lo = std::floor(lo / axis.step + 1e-9) * axis.step;
  axis.hi = std::ceil(hi / axis.step - 1e-9) * axis.step;
  if (axis.hi <= axis.lo) axis.hi = axis.lo + axis.step;
  const long n = std::lround((axis.hi - axis.lo) / axis.step);
  for (long i = 0; i <= n; ++i) {
    double t = axis.lo + static_cast<double>(i) * axis.step;
    if (std::fabs(t) < axis.step * 1e-9) t = 0;
    axis.ticks.push_back(t);
  }
  return axis;
}

std::string format_tick(double value, double step) {
  if (std::fabs(value) < std::fabs(step) * 1e-9 || value == 0) return "0";
  const double magnitude = std::fabs(value);
  if ((std::fabs(step) < 1e-3 && magnitude < 1e-2) || magnitude >= 1e6) {  // learning rates, huge counts
    int exp = static_cast<int>(std::floor(std::log10(magnitude)));
    double mantissa = value / std::pow(10.0, exp);
    const int decimals = std::min(6, decimals_for(std::fabs(step) / std::pow(10.0, exp)));
    if (std::fabs(std::stod(fixed(mantissa, decimals))) >= 10) {  // 9.99 rounded to 10.0
      ++exp;
      mantissa /= 10;
    }
    return trim_zeros(fixed(mantissa, decimals)) + "e" + std::to_string(exp);
  }
  return fixed(value, decimals_for(std::fabs(step)));
}

double PlotArea::px(double x_value) const { return left + (x_value - x.lo) / (x.hi - x.lo) * width; }
double PlotArea::py(double y_value) const { return top + (y.hi - y_value) / (y.hi - y.lo) * height; }

std::vector<PlotArea> layout(const Figure& figure) {
  std::vector<PlotArea> areas;
  double offset = kHeaderHeight;
  for (const auto& panel : figure.panels) {
    PlotArea a;
    a.left = kMarginLeft;
    a.top = offset + kMarginTop;
    a.width = std::max(10.0, figure.width - kMarginLeft - kMarginRight);
    a.height = std::max(10.0, panel.height - kMarginTop - kMarginBottom);
    Range xr, yr;
    for (const auto& s : panel.series)
      for (const auto& p : s.points)
        if (finite_point(p)) xr.add(p.first), yr.add(p.second);
    if (xr.empty()) xr.add(0), xr.add(1), yr.add(0), yr.add(1);
    a.x = nice_axis(xr.lo, xr.hi, tick_target(a.width, 90), panel.x_integer, false);
    a.y = nice_axis(yr.lo, yr.hi, tick_target(a.height, 45), false, panel.y_from_zero);
    areas.push_back(a);
    offset += panel.height;
  }
  return areas;
}

std::string render_svg(const Figure& figure) {
  if (figure.panels.empty()) throw std::invalid_argument("a figure needs at least one panel");
  const auto areas = layout(figure);
  double height = kHeaderHeight + 8;
  for (const auto& p : figure.panels) height += p.height;
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << coord(figure.width) << "\" height=\"" << coord(height)
      << "\" viewBox=\"0 0 " << coord(figure.width) << " " << coord(height)
      << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\" fill=\"#222222\">\n";
  out << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  text(out, figure.width / 2, 26, figure.title, "class=\"title\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\"");
  if (!figure.subtitle.empty())
    text(out, figure.width / 2, 46, figure.subtitle, "class=\"subtitle\" text-anchor=\"middle\" fill=\"#555555\"");
  for (size_t i = 0; i < figure.panels.size(); ++i) render_panel(out, figure.panels[i], areas[i]);
  out << "</svg>\n";
  return out.str();
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string coord(double v) { return fixed(v, 2); }

}  // namespace memtx_cli::svg
