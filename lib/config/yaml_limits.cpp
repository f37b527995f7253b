// config/yaml_limits.cpp: a first pass over a YAML/JSON document's parse events, before yaml-cpp builds any
// node tree, that refuses hostile shapes: nesting deeper than kMaxYamlDepth, and documents of more than
// kMaxYamlNodes nodes counting every alias as the nodes it stands for (a "billion laughs" alias bomb is
// refused by arithmetic, never expanded). Linear in the text; a syntax error is left to the real parse.
#include <sstream>
#include <unordered_map>
#include <vector>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include "config/internal.hpp"

namespace memtx::config_detail {
namespace {

// Stops the parse at the first breach.
struct Breach {
  YAML::Mark mark;
  std::string message;
};

class LimitCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override { anchor_sizes_.clear(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchor_sizes_.find(anchor);
    add(mark, it == anchor_sizes_.end() ? 1 : it->second);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    uint64_t count_before;  // nodes counted before this collection
  };

  void add(const YAML::Mark& mark, uint64_t nodes) {
    count_ += nodes;  // each term is at most kMaxYamlNodes: no overflow before the check
    if (count_ > kMaxYamlNodes)
      throw Breach{mark, "the document has more than " + std::to_string(kMaxYamlNodes) +
                             " values (aliases counted as the values they repeat); a configuration needs far fewer"};
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1);
    if (anchor) anchor_sizes_[anchor] = 1;
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (open_.size() >= kMaxYamlDepth)
      throw Breach{mark, "lists and mappings nested more than " + std::to_string(kMaxYamlDepth) +
                             " levels deep; a configuration needs three"};
    open_.push_back({anchor, count_});
    add(mark, 1);
  }
  void close() {
    const Open top = open_.back();
    open_.pop_back();
    if (top.anchor) anchor_sizes_[top.anchor] = count_ - top.count_before;
  }

  std::vector<Open> open_;
  std::unordered_map<YAML::anchor_t, uint64_t> anchor_sizes_;
  uint64_t count_ = 0;
};

}  // namespace

std::optional<std::pair<YAML::Mark, std::string>> yaml_limit_breach(const std::string& text) {
  std::istringstream in(text);
  try {
    YAML::Parser parser(in);
    LimitCounter counter;
    while (parser.HandleNextDocument(counter)) {
    }
  } catch (const Breach& b) {
    return std::make_pair(b.mark, b.message);
  } catch (const YAML::Exception&) {
    // Malformed text: the real parse reports it with its position.
  }
  return std::nullopt;
}

}  // namespace memtx::config_detail
