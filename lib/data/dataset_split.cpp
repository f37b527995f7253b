// data/dataset_split.cpp: held-out evaluation records (dataset_split.hpp).
#include "data/dataset_split.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "data/dataset_random.hpp"

namespace memtx::data {

namespace {

constexpr uint64_t kHeldOutSeed = 0x6d656d74785f686fULL;  // fixed: the held-out set ignores data_seed

// The position p (0 < p < size) right after an occurrence of `sep`, nearest `target`; npos when none.
size_t nearest_cut(const std::string& text, const std::string& sep, size_t target) {
  size_t best = std::string::npos, best_dist = std::string::npos;
  for (size_t at = text.find(sep); at != std::string::npos; at = text.find(sep, at + 1)) {
    const size_t p = at + sep.size();
    if (p == 0 || p >= text.size()) continue;
    const size_t dist = p > target ? p - target : target - p;
    if (dist < best_dist) {
      best = p;
      best_dist = dist;
    }
  }
  return best;
}

}  // namespace

std::pair<std::string, std::string> split_text_tail(const std::string& text, double fraction) {
  if (!(fraction > 0.0) || text.size() < 2) return {text, ""};
  const auto target = static_cast<size_t>(std::llround((1.0 - fraction) * static_cast<double>(text.size())));
  // A separator's cut counts when it moves the cut by at most half the intended tail.
  const size_t slack = std::max<size_t>((text.size() - std::min(target, text.size())) / 2, 1);
  size_t cut = std::string::npos;
  for (const char* sep : {"\n\n", "\n", " "}) {
    const size_t p = nearest_cut(text, sep, target);
    if (p != std::string::npos && (p > target ? p - target : target - p) <= slack) {
      cut = p;
      break;
    }
  }
  if (cut == std::string::npos) {
    cut = std::min(std::max<size_t>(target, 1), text.size() - 1);
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    if (cut == 0) return {text, ""};
  }
  return {text.substr(0, cut), text.substr(cut)};
}

HeldOut hold_out(std::vector<Record> records, double fraction) {
  HeldOut out;
  const size_t n = records.size();
  if (!(fraction > 0.0) || n == 0) {
    out.train = std::move(records);
    return out;
  }
  if (n == 1) {
    Record& r = records[0];
    if (!r.chat && !r.has_response) {
      auto [head, tail] = split_text_tail(r.text, fraction);
      if (!tail.empty()) {
        Record eval = r;
        eval.origin += " (held-out tail)";
        eval.text = std::move(tail);
        r.text = std::move(head);
        out.eval.push_back(std::move(eval));
      }
    }
    out.train = std::move(records);
    return out;
  }
  auto count = static_cast<size_t>(std::llround(fraction * static_cast<double>(n)));
  count = std::min(std::max<size_t>(count, 1), n - 1);
  const auto order = permutation(static_cast<int64_t>(n), kHeldOutSeed ^ n);
  std::vector<bool> held(n, false);
  for (size_t i = 0; i < count; ++i) held[static_cast<size_t>(order[i])] = true;
  for (size_t i = 0; i < n; ++i) (held[i] ? out.eval : out.train).push_back(std::move(records[i]));
  return out;
}

}  // namespace memtx::data
