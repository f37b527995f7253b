// tokenizer/tokenizer_protobuf.cpp: the protobuf wire-format reader.
#include "tokenizer/tokenizer_protobuf.hpp"

#include <cstring>

#include "tokenizer/tokenizer_errors.hpp"

namespace memtx::data {

void ProtoReader::fail(const std::string& what) const {
  throw_io(file_, "malformed SentencePiece model (protobuf): " + what + " at byte " + std::to_string(pos_));
}

uint64_t ProtoReader::read_varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) fail("truncated varint");
    const auto byte = static_cast<unsigned char>(data_[pos_++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  fail("varint longer than 10 bytes");
}

bool ProtoReader::next() {
  if (pos_ >= data_.size()) return false;
  const uint64_t tag = read_varint();
  field_ = static_cast<uint32_t>(tag >> 3);
  wire_type_ = static_cast<int>(tag & 7);
  if (field_ == 0 || tag >> 3 > 0x1FFFFFFF) fail("invalid field number");
  if (wire_type_ != Varint && wire_type_ != Fixed64 && wire_type_ != LengthDelimited && wire_type_ != Fixed32)
    fail("unsupported wire type " + std::to_string(wire_type_) + " (field " + std::to_string(field_) + ")");
  return true;
}

void ProtoReader::expect(int wire_type) const {
  if (wire_type_ != wire_type)
    fail("field " + std::to_string(field_) + " has wire type " + std::to_string(wire_type_) + ", expected " +
         std::to_string(wire_type));
}

uint64_t ProtoReader::varint() {
  expect(Varint);
  return read_varint();
}

float ProtoReader::fixed32_float() {
  expect(Fixed32);
  if (data_.size() - pos_ < 4) fail("truncated 32-bit value");
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) bits |= static_cast<uint32_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
  pos_ += 4;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::string_view ProtoReader::bytes() {
  expect(LengthDelimited);
  const uint64_t length = read_varint();
  if (length > data_.size() - pos_) fail("length-delimited field runs past the end");
  const std::string_view out = data_.substr(pos_, static_cast<size_t>(length));
  pos_ += static_cast<size_t>(length);
  return out;
}

void ProtoReader::skip() {
  switch (wire_type_) {
    case Varint: read_varint(); break;
    case Fixed64:
      if (data_.size() - pos_ < 8) fail("truncated 64-bit value");
      pos_ += 8;
      break;
    case Fixed32:
      if (data_.size() - pos_ < 4) fail("truncated 32-bit value");
      pos_ += 4;
      break;
    default: bytes(); break;
  }
}

}  // namespace memtx::data
