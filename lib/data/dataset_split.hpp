// data/dataset_split.hpp: the deterministic held-out evaluation fraction (training.eval_fraction), used when
// eval_split is set but the dataset has no files for it (a single file, or a folder without that split).
// The held-out set depends only on the records and the fraction, never on training.data_seed, so runs
// with different seeds evaluate on the same data:
//   several documents: round(fraction * n) of them (at least 1 when fraction > 0, at most n - 1), picked by
//     a fixed-seed permutation; both parts keep the file order;
//   one plain-text document (a single .txt file): its last `fraction` of the text, cut at the blank line
//     (paragraph boundary) nearest that point, else the nearest line break, else the nearest space (each
//     only when it moves the cut by at most half the intended tail), else at that byte (moved back to a
//     UTF-8 character boundary);
//   one chat document, or fraction 0: no evaluation data.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "data/dataset_records.hpp"

namespace memtx::data {

struct HeldOut {
  std::vector<Record> train;
  std::vector<Record> eval;
};

HeldOut hold_out(std::vector<Record> records, double fraction);

// (head, tail) of a text cut as described above; tail is empty when fraction is 0 or no cut leaves both
// parts non-empty.
std::pair<std::string, std::string> split_text_tail(const std::string& text, double fraction);

}  // namespace memtx::data
