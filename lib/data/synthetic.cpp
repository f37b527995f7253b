// data/synthetic.cpp: parsing "synthetic:<name>?k=v&..." and drawing the built-in datasets' documents.
#include "data/synthetic.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "data/dataset_random.hpp"
#include "data/synthetic_passkey.hpp"
#include "data/synthetic_recall.hpp"
#include "memtx/error.hpp"

namespace memtx::data {

namespace {

constexpr const char* kPrefix = "synthetic:";

const std::map<std::string, std::vector<std::string>>& generators() {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"passkey", {"length", "min_length", "depth", "digits", "examples"}},
      {"associative_recall", {"pairs", "key_length", "value_digits", "examples"}},
  };
  return table;
}

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw Error(StatusCode::Config, "training.dataset_name '" + name + "': " + what);
}

int64_t parse_int(const std::string& name, const std::string& key, const std::string& text, int64_t lo, int64_t hi) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi) {
    bad(name, "parameter " + key + "=" + text + ": expected an integer in " + std::to_string(lo) + ".." +
                  std::to_string(hi));
  }
  return v;
}

}  // namespace

std::vector<std::string> synthetic_dataset_names() {
  std::vector<std::string> out;
  for (const auto& [g, params] : generators()) out.push_back(kPrefix + g);
  return out;
}

std::optional<SyntheticSpec> parse_synthetic_name(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  const size_t q = name.find('?');
  SyntheticSpec spec;
  spec.name = name;
  spec.generator = name.substr(std::string(kPrefix).size(), q == std::string::npos ? std::string::npos
                                                                                    : q - std::string(kPrefix).size());
  const auto gen = generators().find(spec.generator);
  if (gen == generators().end()) return std::nullopt;
  spec.examples = spec.generator == "passkey" ? 500 : 2000;
  if (q == std::string::npos) return spec;
  const std::string query = name.substr(q + 1);
  size_t start = 0;
  while (start <= query.size()) {
    const size_t amp = query.find('&', start);
    const std::string item = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    start = amp == std::string::npos ? query.size() + 1 : amp + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) bad(name, "parameter '" + item + "' has no value (expected key=value)");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    const auto& known = gen->second;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      bad(name, "unknown parameter '" + key + "'; " + kPrefix + spec.generator + " takes " + list);
    }
    if (key == "examples") {
      spec.examples = parse_int(name, key, value, 1, int64_t{1} << 40);
    } else if (key == "length") {
      spec.length = parse_int(name, key, value, 1, int64_t{1} << 40);
    } else if (key == "min_length") {
      spec.min_length = parse_int(name, key, value, 1, int64_t{1} << 40);
    } else if (key == "digits") {
      spec.digits = static_cast<int>(parse_int(name, key, value, 1, 18));
    } else if (key == "pairs") {
      spec.pairs = parse_int(name, key, value, 1, int64_t{1} << 30);
    } else if (key == "key_length") {
      spec.key_length = static_cast<int>(parse_int(name, key, value, 1, 8));
    } else if (key == "value_digits") {
      spec.value_digits = static_cast<int>(parse_int(name, key, value, 1, 18));
    } else if (key == "depth") {
      if (value == "random") {
        spec.depth.reset();
      } else {
        char* end = nullptr;
        const double d = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0' || !(d >= 0.0 && d <= 1.0)) {
          bad(name, "parameter depth=" + value + ": expected a number in [0, 1] or random");
        }
        spec.depth = d;
      }
    }
  }
  if (spec.generator == "associative_recall") {
    int64_t space = 1;
    for (int i = 0; i < spec.key_length; ++i) space *= 26;
    if (spec.pairs > space / 2) {
      bad(name, "pairs=" + std::to_string(spec.pairs) + " needs longer keys: " + std::to_string(spec.key_length) +
                    "-letter keys allow at most " + std::to_string(space / 2) + " pairs");
    }
  }
  return spec;
}

namespace {
// The examples are held in memory: refuse a request whose tokens (examples x the fewest tokens one example can
// have) exceed kMaxSyntheticTokens before anything is allocated, naming the parameters to lower.
constexpr int64_t kMaxSyntheticTokens = int64_t{1} << 28;  // ~268M tokens, a few GiB with their masks

void check_synthetic_size(const SyntheticSpec& spec, int64_t count, int64_t default_length) {
  const int64_t per_example = spec.generator == "passkey"
                                  ? spec.min_length.value_or(spec.length.value_or(default_length))
                                  : 2 * spec.pairs;  // every pair is at least a key token and a value token
  if (count > 0 && per_example > kMaxSyntheticTokens / count) {
    throw Error(StatusCode::Config,
                spec.name + ": " + std::to_string(count) + " examples of at least " + std::to_string(per_example) +
                    " tokens each exceed the " + std::to_string(kMaxSyntheticTokens) +
                    " tokens a synthetic dataset may hold in memory; lower examples= (or length= / pairs=)");
  }
}
}  // namespace

std::vector<Document> synthetic_documents(const Tokenizer& tokenizer, const SyntheticSpec& spec, int64_t count,
                                          uint64_t seed, int64_t default_length, bool instruction_finetuning) {
  if (spec.generator == "passkey") {
    const int64_t length = spec.length.value_or(default_length);
    const int64_t minimum = passkey_min_length(tokenizer, spec.digits);
    const int64_t shortest = spec.min_length.value_or(length);
    if (shortest < minimum) {
      throw Error(StatusCode::Config, spec.name + ": passkey length " + std::to_string(shortest) +
                                          (spec.min_length ? " (min_length=)"
                                           : spec.length   ? " (length=)"
                                                           : " (training.max_length)") +
                                          " is below the shortest passkey prompt, " + std::to_string(minimum) +
                                          " tokens with this tokenizer");
    }
    if (shortest > length) {
      throw Error(StatusCode::Config, spec.name + ": min_length=" + std::to_string(shortest) + " is above the length, " +
                                          std::to_string(length) +
                                          (spec.length ? " (length=)" : " (training.max_length)"));
    }
  }
  check_synthetic_size(spec, count, default_length);
  std::vector<Document> docs;
  docs.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    Rng rng(derive_seed(seed, spec.generator, static_cast<uint64_t>(i)));
    if (spec.generator == "passkey") {
      PasskeyOptions o;
      const int64_t length = spec.length.value_or(default_length);
      o.length = length;
      o.digits = spec.digits;
      o.seed = rng.next();
      o.depth = spec.depth ? *spec.depth : rng.uniform();
      if (spec.min_length)  // drawn only with min_length, so the examples without it stay as they were
        o.length = *spec.min_length + static_cast<int64_t>(rng.below(static_cast<uint64_t>(length - *spec.min_length + 1)));
      Document doc = passkey_document(make_passkey_example(tokenizer, o), instruction_finetuning);
      if (o.length < length) doc.append(passkey_filler(tokenizer, length - o.length), !instruction_finetuning);
      docs.push_back(std::move(doc));
    } else {
      RecallOptions o;
      o.pairs = spec.pairs;
      o.key_length = spec.key_length;
      o.value_digits = spec.value_digits;
      o.seed = rng.next();
      docs.push_back(recall_document(make_recall_example(tokenizer, o), instruction_finetuning));
    }
  }
  return docs;
}

}  // namespace memtx::data
