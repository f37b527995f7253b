// data/dataset_reader.cpp: reading .txt, .jsonl and .json files into records (dataset_records.hpp).
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/dataset_records.hpp"
#include "memtx/error.hpp"
#include "memtx/read_file.hpp"

namespace memtx::data {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string fields_text(const std::vector<std::string>& fields) {
  std::string s = "[";
  for (size_t i = 0; i < fields.size(); ++i) s += (i ? ", " : "") + fields[i];
  return s + "]";
}

std::string json_kind(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "a boolean";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

[[noreturn]] void field_error(const std::string& origin, const std::string& what,
                              const std::vector<std::string>& fields) {
  throw Error(StatusCode::Config,
              origin + ": " + what + " (training.text_field = " + fields_text(fields) + ")");
}

std::string string_or_empty(const json& v, const std::string& origin, const std::string& what,
                            const std::vector<std::string>& fields) {
  if (v.is_null()) return "";
  if (!v.is_string()) field_error(origin, what + " is " + json_kind(v) + ", expected a string", fields);
  return v.get<std::string>();
}

std::vector<ChatMessage> read_messages(const json& list, const std::string& origin, const std::string& field,
                                       const std::vector<std::string>& fields) {
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& m = list[i];
    const std::string where = "field '" + field + "' message " + std::to_string(i);
    if (!m.is_object()) field_error(origin, where + " is " + json_kind(m) + ", expected an object", fields);
    ChatMessage msg;
    if (m.contains("role")) {
      msg.role = string_or_empty(m["role"], origin, where + " role", fields);
      if (!m.contains("content")) field_error(origin, where + " has no 'content'", fields);
      msg.content = string_or_empty(m["content"], origin, where + " content", fields);
    } else if (m.contains("from") && m.contains("value")) {  // ShareGPT
      const std::string from = string_or_empty(m["from"], origin, where + " 'from'", fields);
      msg.role = from == "human" ? "user" : from == "gpt" ? "assistant" : from;
      msg.content = string_or_empty(m["value"], origin, where + " value", fields);
    } else {
      field_error(origin, where + " has neither 'role'/'content' nor 'from'/'value'", fields);
    }
    if (msg.role.empty()) field_error(origin, where + " has an empty role", fields);
    out.push_back(std::move(msg));
  }
  return out;
}

std::string available_fields(const json& obj) {
  std::string s;
  for (auto it = obj.begin(); it != obj.end(); ++it) s += (s.empty() ? "" : ", ") + it.key();
  return s.empty() ? "none" : s;
}

Record record_from_json(const json& obj, const std::string& origin, const std::vector<std::string>& fields) {
  if (!obj.is_object()) throw Error(StatusCode::Io, origin + ": a record is " + json_kind(obj) + ", expected an object");
  if (fields.empty()) throw Error(StatusCode::Config, "training.text_field is empty: name at least one field");
  Record r;
  r.origin = origin;
  for (const auto& f : fields) {
    if (!obj.contains(f)) {
      field_error(origin, "record has no field '" + f + "'; its fields: " + available_fields(obj), fields);
    }
  }
  if (fields.size() == 1) {
    const json& v = obj[fields[0]];
    if (v.is_array()) {
      r.chat = true;
      r.messages = read_messages(v, origin, fields[0], fields);
    } else {
      r.text = string_or_empty(v, origin, "field '" + fields[0] + "'", fields);
    }
    return r;
  }
  std::vector<std::string> prompt_parts;
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    std::string v = string_or_empty(obj[fields[i]], origin, "field '" + fields[i] + "'", fields);
    if (!v.empty()) prompt_parts.push_back(std::move(v));
  }
  for (size_t i = 0; i < prompt_parts.size(); ++i) r.text += (i ? "\n\n" : "") + prompt_parts[i];
  r.response = string_or_empty(obj[fields.back()], origin, "field '" + fields.back() + "'", fields);
  r.has_response = true;
  return r;
}

// At most FileLimits::kData bytes of a regular file (memtx/read_file.hpp).
std::string read_all(const fs::path& file) { return read_file(file.string(), "data file", FileLimits::kData); }

}  // namespace

bool is_data_file(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".txt" || ext == ".jsonl" || ext == ".json";
}

std::vector<Record> read_records(const fs::path& file, const std::vector<std::string>& text_fields) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw Error(StatusCode::NotFound, "data file not found: " + file.string());
  const std::string ext = file.extension().string();
  const std::string name = file.string();
  std::vector<Record> out;
  if (ext == ".txt") {
    Record r;
    r.origin = name;
    r.text = read_all(file);
    if (r.text.compare(0, 3, "\xEF\xBB\xBF") == 0) r.text.erase(0, 3);
    out.push_back(std::move(r));
  } else if (ext == ".jsonl") {
    check_regular_file(name, "data file", FileLimits::kData);  // read line by line, bounded as a whole
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(StatusCode::Io, "cannot open data file " + name);
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      const std::string origin = name + ":" + std::to_string(n);
      json obj;
      try {
        obj = json::parse(line);
      } catch (const json::exception& e) {
        throw Error(StatusCode::Io, origin + ": malformed JSON: " + e.what());
      }
      out.push_back(record_from_json(obj, origin, text_fields));
    }
    if (in.bad()) throw Error(StatusCode::Io, "cannot read data file " + name);
  } else if (ext == ".json") {
    json doc;
    try {
      doc = json::parse(read_all(file));
    } catch (const json::exception& e) {
      throw Error(StatusCode::Io, name + ": malformed JSON: " + e.what());
    }
    if (!doc.is_array()) throw Error(StatusCode::Io, name + ": expected a JSON array of records, found " + json_kind(doc));
    for (size_t i = 0; i < doc.size(); ++i) {
      out.push_back(record_from_json(doc[i], name + "[" + std::to_string(i) + "]", text_fields));
    }
  } else {
    throw Error(StatusCode::InvalidArgument, "unsupported data file " + name + ": expected .txt, .jsonl or .json");
  }
  return out;
}

}  // namespace memtx::data
