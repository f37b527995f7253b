// data/passkey_prompt.cpp: a passkey prompt produced range by range from its runs (passkey_prompt.hpp).
#include "data/passkey_prompt.hpp"

#include <algorithm>
#include <string>

#include "memtx/error.hpp"

namespace memtx::data {

void PasskeyPrompt::append(Tokens piece) {
  Run run;
  run.begin = size_;
  run.count = static_cast<int64_t>(piece->size());
  run.piece = std::move(piece);
  size_ += run.count;
  if (run.count > 0) runs_.push_back(std::move(run));
}

void PasskeyPrompt::append_cycle(Cycle cycle, size_t first, int64_t count) {
  if (count <= 0) return;
  Run run;
  for (const auto& sentence : *cycle) {
    if (sentence.empty()) throw Error(StatusCode::Internal, "passkey prompt: a filler sentence has no tokens");
    run.cycle_tokens += static_cast<int64_t>(sentence.size());
  }
  if (cycle->empty()) throw Error(StatusCode::Internal, "passkey prompt: the filler has no sentences");
  run.begin = size_;
  run.count = count;
  run.first = first % cycle->size();
  run.cycle = std::move(cycle);
  size_ += count;
  runs_.push_back(std::move(run));
}

void PasskeyPrompt::copy_cycle(const Run& run, int64_t from, int64_t n, int64_t* out) {
  const auto& sentences = *run.cycle;
  // Whole turns of the cycle are skipped arithmetically; then at most one turn is walked to find the sentence.
  int64_t offset = from % run.cycle_tokens;
  size_t k = run.first;
  while (offset >= static_cast<int64_t>(sentences[k].size())) {
    offset -= static_cast<int64_t>(sentences[k].size());
    k = (k + 1) % sentences.size();
  }
  while (n > 0) {
    const auto& s = sentences[k];
    const int64_t take = std::min<int64_t>(n, static_cast<int64_t>(s.size()) - offset);
    out = std::copy(s.begin() + offset, s.begin() + offset + take, out);
    n -= take;
    offset = 0;
    k = (k + 1) % sentences.size();
  }
}

void PasskeyPrompt::copy(int64_t begin, int64_t end, int64_t* out) const {
  if (begin < 0 || end < begin || end > size_) {
    throw Error(StatusCode::InvalidArgument, "passkey prompt: range [" + std::to_string(begin) + ", " +
                                                 std::to_string(end) + ") outside the prompt's " +
                                                 std::to_string(size_) + " tokens");
  }
  // The run holding `begin`: runs are few (at most seven), so a linear scan.
  for (const Run& run : runs_) {
    if (begin >= end) break;
    if (run.begin + run.count <= begin) continue;
    const int64_t from = begin - run.begin;
    const int64_t n = std::min(end, run.begin + run.count) - begin;
    if (run.piece) {
      out = std::copy(run.piece->begin() + from, run.piece->begin() + from + n, out);
    } else {
      copy_cycle(run, from, n, out);
      out += n;
    }
    begin += n;
  }
}

std::vector<int64_t> PasskeyPrompt::tokens() const {
  std::vector<int64_t> out(static_cast<size_t>(size_));
  copy(0, size_, out.data());
  return out;
}

}  // namespace memtx::data
