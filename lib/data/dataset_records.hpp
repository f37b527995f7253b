// data/dataset_records.hpp: records read from local data files, before tokenization.
//
// Formats (chosen by the file's extension):
//   .txt    the whole file is one record (one document): long texts stay whole for long-context training.
//           A leading UTF-8 byte-order mark is dropped.
//   .jsonl  one JSON object per non-empty line.
//   .json   an array of JSON objects.
// training.text_field names the field(s) holding the text:
//   one field holding a string          -> a text record;
//   one field holding a list of messages -> a chat record: [{"role": ..., "content": ...}, ...]
//                                          (ShareGPT's {"from": human|gpt|system, "value": ...} is also read);
//   several fields (each a string)       -> their non-empty values joined with "\n\n"; the last field is the
//                                          response (in instruction_finetuning only it carries the loss).
// A null field counts as an empty string; a missing field, a non-object record or another value type is an
// error naming the file and line (or record index). Malformed JSON is Error(Io); a field mismatch is
// Error(Config) naming training.text_field.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "data/chat_template.hpp"
#include "data/dataset_document.hpp"
#include "data/dataset_encode.hpp"

namespace memtx::data {

struct Record {
  std::string origin;        // "file.jsonl:12", "file.json[3]", "file.txt"
  std::string text;          // the text, or the prompt part of a several-field record
  std::string response;      // the last field of a several-field record
  bool has_response = false; // several fields: text + "\n\n" + response
  bool chat = false;
  std::vector<ChatMessage> messages;
};

// True for .txt, .jsonl and .json files (case-sensitive extensions).
bool is_data_file(const std::filesystem::path& path);

// Every record of one file. Error(NotFound) when it is missing, Error(Io) when unreadable or malformed,
// Error(Config) when a record does not fit text_fields, Error(InvalidArgument) for another extension.
std::vector<Record> read_records(const std::filesystem::path& file, const std::vector<std::string>& text_fields);

// The record as the model sees it: the text, the joined fields, or the ChatML rendering.
std::string record_text(const Record& record);

// Tokens and loss mask (see dataset.hpp): pretraining counts every token; instruction_finetuning counts
// the assistant turns of chat records, the response of several-field records, and all of a plain text.
Document tokenize_record(const PieceEncoder& encoder, const Record& record, bool instruction_finetuning);

}  // namespace memtx::data
