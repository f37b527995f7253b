// tokenizer/tokenizer_json_reader.hpp: checked access to the fields of a tokenizer.json (nlohmann::json): each
// mistyped or missing field raises Error(Io) naming the file and the field, and ids are bounded before any
// id-indexed table is sized.
#pragma once
#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/tokenizer_errors.hpp"

namespace memtx::data {

using nlohmann::json;

// Token ids are nearly dense: a tokenizer.json with V vocabulary entries and A added tokens uses ids below
// V + A when it has no holes. Every id is checked against twice that plus some slack (kIdSlack), and against
// kMaxTokenIds, before the id-indexed tables are sized: their size stays proportional to the file, and a
// hostile id (1e8) cannot allocate gigabytes.
constexpr int64_t kMaxTokenIds = int64_t{1} << 24;
constexpr int64_t kIdSlack = 1024;

class Reader {
 public:
  Reader(const std::string& file, int64_t entries, int64_t added) : file_(file), entries_(entries), added_(added) {
    id_limit_ = std::min(kMaxTokenIds, 2 * (entries + added) + kIdSlack);
  }

  // The member `key` of obj, nullptr when absent or null.
  const json* find(const json& obj, const char* key) const {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  const json& require(const json& obj, const char* key, const std::string& where) const {
    const json* v = find(obj, key);
    if (v == nullptr) throw_io(file_, "missing field \"" + std::string(key) + "\" in " + where);
    return *v;
  }
  std::string string(const json& v, const std::string& what) const {
    if (!v.is_string()) throw_io(file_, what + " must be a string");
    return v.get<std::string>();
  }
  bool boolean(const json& obj, const char* key, bool fallback, const std::string& where) const {
    const json* v = find(obj, key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) throw_io(file_, where + "." + key + " must be true or false");
    return v->get<bool>();
  }
  int64_t id(const json& v, const std::string& what) const {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
      throw_io(file_, what + " must be a non-negative integer id");
    const int64_t id = v.get<int64_t>();
    if (id >= id_limit_)
      throw_io(file_, what + " is id " + std::to_string(id) + ", out of range: ids must be below " +
                          std::to_string(id_limit_) + " (2 x (" + std::to_string(entries_) + " vocabulary entries + " +
                          std::to_string(added_) + " added tokens) + " + std::to_string(kIdSlack) + ", at most " +
                          std::to_string(kMaxTokenIds) + ")");
    return id;
  }
  // A non-negative integer field (a count), fallback when absent.
  size_t count(const json& obj, const char* key, size_t fallback, const std::string& where) const {
    const json* v = find(obj, key);
    if (v == nullptr) return fallback;
    if (!v->is_number_unsigned()) throw_io(file_, where + "." + key + " must be a non-negative integer");
    return static_cast<size_t>(std::min<uint64_t>(v->get<uint64_t>(), uint64_t{1} << 40));
  }
  std::string optional_string(const json& obj, const char* key, const std::string& fallback,
                              const std::string& where) const {
    const json* v = find(obj, key);
    return v == nullptr ? fallback : string(*v, where + "." + key);
  }
  std::string type(const json& obj, const std::string& where) const {
    if (!obj.is_object()) throw_io(file_, where + " must be an object");
    return string(require(obj, "type", where), where + ".type");
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  int64_t entries_ = 0, added_ = 0, id_limit_ = 0;
};

// The number of elements of root[key][sub] (or root[key]) when it is an object or array, else 0.
inline int64_t count_of(const json& root, const char* key, const char* sub = nullptr) {
  auto it = root.find(key);
  if (it == root.end()) return 0;
  const json* v = &*it;
  if (sub) {
    if (!v->is_object()) return 0;
    auto inner = v->find(sub);
    if (inner == v->end()) return 0;
    v = &*inner;
  }
  return v->is_object() || v->is_array() ? static_cast<int64_t>(v->size()) : 0;
}

}  // namespace memtx::data
