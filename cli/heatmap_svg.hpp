// cli/heatmap_svg.hpp: an SVG heat map for `memtx-cli passkey`: a grid of cells (columns: x values such as
// prompt lengths, rows: y values such as needle depths, top to bottom), each filled with the colour of its
// value in [0, 1] and labelled with it as a percentage, plus axis labels, a title and a colour bar.
// Colour scale (piecewise linear in RGB): 0 -> #d73027 (red), 0.5 -> #fee08b (yellow), 1 -> #1a9850 (green);
// a missing (NaN) value is grey #d9d9d9 labelled "n/a".
// Cell (row r, column c) lies at x = kHeatLeft + c * cell_width, y = kHeatTop + r * cell_height.
#pragma once
#include <string>
#include <vector>

namespace memtx_cli::svg {

struct Heatmap {
  std::string title;
  std::string subtitle;
  std::string x_label;                     // under the columns
  std::string y_label;                     // beside the rows
  std::vector<std::string> columns;        // column tick labels, left to right
  std::vector<std::string> rows;           // row tick labels, top to bottom
  std::vector<std::vector<double>> values; // [row][column] in [0, 1] (clamped); NaN = no value
  double cell_width = 110;
  double cell_height = 56;
  std::string legend_label = "accuracy";  // written beside the colour bar
};

// Layout in pixels: the grid's top-left corner, and the space right of the grid (colour bar) and below it.
constexpr double kHeatLeft = 110;
constexpr double kHeatTop = 76;
constexpr double kHeatRight = 120;
constexpr double kHeatBottom = 64;

// "#rrggbb" of a value on the scale above (clamped to [0, 1]); "#d9d9d9" for NaN.
std::string heat_color(double value);
// The text written in a cell: the value as a whole percentage ("80%", "100%"), "n/a" for NaN.
std::string heat_text(double value);
// The whole document. Throws std::invalid_argument when there are no rows or columns, or values is not
// rows x columns.
std::string render_heatmap_svg(const Heatmap& heatmap);

}  // namespace memtx_cli::svg
