// tokenizer/tokenizer_protobuf.hpp: a minimal reader of the protobuf wire format (varints, 32/64-bit fixed
// values, length-delimited fields), enough to parse SentencePiece's ModelProto without libprotobuf.
// Every read is bounds-checked; malformed input raises Error(Io) naming the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace memtx::data {

class ProtoReader {
 public:
  enum WireType : int { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 };

  ProtoReader(std::string_view data, const std::string& file) : data_(data), file_(file) {}

  // Reads the next field's tag; false at the end of the message.
  bool next();
  uint32_t field() const { return field_; }
  int wire_type() const { return wire_type_; }

  // The current field's value; each checks the wire type.
  uint64_t varint();
  float fixed32_float();
  std::string_view bytes();  // also a nested message: read it with another ProtoReader
  void skip();

 private:
  uint64_t read_varint();
  [[noreturn]] void fail(const std::string& what) const;
  void expect(int wire_type) const;

  std::string_view data_;
  size_t pos_ = 0;
  uint32_t field_ = 0;
  int wire_type_ = -1;
  std::string file_;
};

}  // namespace memtx::data
