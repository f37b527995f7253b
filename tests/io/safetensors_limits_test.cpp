// tests/io/safetensors_limits_test.cpp: hostile safetensors headers: many entries parse in linear time, and
// the documented limits (tensor count, dimensions, nesting, header length) are refused with a message naming
// the file and the limit.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>

#include "common/error_of.hpp"
#include "common/hang_guard.hpp"
#include "common/little_endian.hpp"
#include "common/temp_dir.hpp"
#include "io/safetensors.hpp"

namespace {

using memtx::StatusCode;
using memtx::io::kMaxSafetensorsTensors;
using memtx::io::read_safetensors;
using memtx::io::read_safetensors_shapes;

using memtx_test::le64;

// A file of `header` followed by `data_size` bytes of data.
std::string write_file(const memtx_test::TempDir& dir, const std::string& header, size_t data_size = 0) {
  const std::string p = dir.path("hostile.safetensors");
  std::ofstream(p, std::ios::binary) << le64(header.size()) << header << std::string(data_size, '\0');
  return p;
}

// A header of `n` zero-sized F32 tensors "t<i>", all at offset 0 (what a hostile file holds by the million).
std::string zero_sized_entries(size_t n) {
  std::string h = "{";
  for (size_t i = 0; i < n; ++i) {
    if (i) h += ',';
    h += "\"t" + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
  }
  return h + "}";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(SafetensorsLimits, ManyEntriesParseInLinearTime) {
  // 200k entries took 53 s with the ordered JSON map (quadratic); linear parsing takes well under a second.
  memtx_test::TempDir dir;
  const std::string p = write_file(dir, zero_sized_entries(200'000));
  const auto start = std::chrono::steady_clock::now();
  const auto shapes = read_safetensors_shapes(p);
  EXPECT_EQ(shapes.size(), 200'000u);
  EXPECT_EQ(shapes.front().first, "t0");  // equal offsets keep the header's order
  EXPECT_EQ(shapes.back().first, "t199999");
  const auto file = read_safetensors(p);
  EXPECT_EQ(file.tensors.size(), 200'000u);
  EXPECT_LT(seconds_since(start), memtx_test::hang_guard_seconds(10.0));
}

TEST(SafetensorsLimits, TooManyTensorsAreRefused) {
  memtx_test::TempDir dir;
  const std::string p = write_file(dir, zero_sized_entries(kMaxSafetensorsTensors + 1));
  const std::string msg = memtx_test::error_of([&] { read_safetensors_shapes(p); }, StatusCode::Io);
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("more than 262144 tensors"), std::string::npos) << msg;
}

TEST(SafetensorsLimits, TooManyDimensionsAreRefused) {
  memtx_test::TempDir dir;
  std::string shape = "1";
  for (int i = 0; i < 64; ++i) shape += ",1";  // 65 dimensions
  const std::string p = write_file(dir, "{\"w\":{\"dtype\":\"U8\",\"shape\":[" + shape + "],\"data_offsets\":[0,1]}}", 1);
  const std::string msg = memtx_test::error_of([&] { read_safetensors(p); }, StatusCode::Io);
  EXPECT_NE(msg.find("tensor 'w': shape has 65 dimensions, more than the limit of 64"), std::string::npos) << msg;
}

TEST(SafetensorsLimits, DeepNestingIsRefusedWhileParsing) {
  memtx_test::TempDir dir;
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  const std::string p = write_file(dir, "{\"w\":{\"dtype\":\"U8\",\"shape\":" + deep + ",\"data_offsets\":[0,0]}}");
  const std::string msg = memtx_test::error_of([&] { read_safetensors(p); }, StatusCode::Io);
  EXPECT_NE(msg.find("nested more than 8 levels"), std::string::npos) << msg;
}

TEST(SafetensorsLimits, HeaderLengthOfTwoToTheSixtyThreeIsRefused) {
  memtx_test::TempDir dir;
  const std::string p = dir.path("claims.safetensors");
  std::ofstream(p, std::ios::binary) << le64(uint64_t{1} << 63) << "{}";
  const std::string msg = memtx_test::error_of([&] { read_safetensors(p); }, StatusCode::Io);
  EXPECT_NE(msg.find("header length 9223372036854775808 exceeds the limit of 100000000 bytes"), std::string::npos)
      << msg;
}

TEST(SafetensorsLimits, OffsetsPastTheFileAndOverflowingShapesAreRefused) {
  memtx_test::TempDir dir;
  std::string p = write_file(dir, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775808]}})", 8);
  std::string msg = memtx_test::error_of([&] { read_safetensors(p); }, StatusCode::Io);
  EXPECT_NE(msg.find("lie outside the data area of 8 bytes"), std::string::npos) << msg;
  p = write_file(dir, R"({"w":{"dtype":"U8","shape":[3037000500,3037000500],"data_offsets":[0,0]}})");
  msg = memtx_test::error_of([&] { read_safetensors(p); }, StatusCode::Io);
  EXPECT_NE(msg.find("has too many elements"), std::string::npos) << msg;
}

}  // namespace
