// data/dataset_document.hpp: one tokenized training document and its loss mask. mask[i] = 1 when token i
// is a target the loss counts (when predicted from the tokens before it), 0 otherwise. The packer appends
// the end-of-sequence token; documents here hold none.
#pragma once
#include <cstdint>
#include <vector>

namespace memtx::data {

struct Document {
  std::vector<int64_t> tokens;
  std::vector<uint8_t> mask;  // same length as tokens, values 0 or 1

  void append(const std::vector<int64_t>& ids, bool counted) {
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    mask.insert(mask.end(), ids.size(), static_cast<uint8_t>(counted ? 1 : 0));
  }

  // A prompt followed by its answer; with answer_only the loss counts the answer tokens alone.
  static Document prompt_and_answer(const std::vector<int64_t>& prompt, const std::vector<int64_t>& answer,
                                    bool answer_only) {
    Document doc;
    doc.append(prompt, !answer_only);
    doc.append(answer, true);
    return doc;
  }
};

}  // namespace memtx::data
