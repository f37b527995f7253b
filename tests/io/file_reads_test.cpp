// tests/io/file_reads_test.cpp: whole-file reads refuse what is not a regular file (a device that never ends,
// a FIFO without a writer, a folder) before reading, and files over their kind's limit: memtx::read_file
// (memtx/read_file.hpp) and io::read_text_file, which the checkpoint code reads through.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "io/file_util.hpp"
#include "memtx/read_file.hpp"

namespace {

using memtx::StatusCode;
using memtx_test::error_of;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(FileReads, DeviceIsRefusedBeforeReading) {
  const std::string msg = error_of([] { memtx::io::read_text_file("/dev/zero"); }, StatusCode::Io);
  EXPECT_TRUE(contains(msg, "'/dev/zero': is a character device, not a regular file")) << msg;
}

TEST(FileReads, FifoIsRefusedWithoutWaitingForAWriter) {
  memtx_test::TempDir dir;
  const std::string fifo = dir.path("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string msg = error_of([&] { memtx::io::read_text_file(fifo); }, StatusCode::Io);
  EXPECT_TRUE(contains(msg, "is a FIFO (named pipe), not a regular file")) << msg;
  msg = error_of([&] { memtx::read_file(fifo, "tokenizer file", memtx::FileLimits::kTokenizer); }, StatusCode::Io);
  EXPECT_TRUE(contains(msg, "tokenizer file '" + fifo + "'")) << msg;
}

TEST(FileReads, FolderAndMissingFile) {
  memtx_test::TempDir dir;
  std::string msg = error_of([&] { memtx::read_file(dir.path().string(), "config file", 100); }, StatusCode::Io);
  EXPECT_TRUE(contains(msg, "is a folder, not a regular file")) << msg;
  msg = error_of([&] { memtx::read_file(dir.path("nope"), "config file", 100); }, StatusCode::NotFound);
  EXPECT_TRUE(contains(msg, "no such file")) << msg;
}

TEST(FileReads, FileOverItsLimitIsRefusedAndOneWithinIsRead) {
  memtx_test::TempDir dir;
  const std::string p = dir.write("big.json", std::string(2048, 'x')).string();
  const std::string msg = error_of([&] { memtx::read_file(p, "config file", 1024); }, StatusCode::Io);
  EXPECT_TRUE(contains(msg, "2048 bytes, more than the limit of 1 KiB for a config file")) << msg;
  EXPECT_EQ(memtx::read_file(p, "config file", 2048).size(), 2048u);
  EXPECT_EQ(memtx::check_regular_file(p, "config file", 2048), 2048u);
}

TEST(FileReads, LimitsInWords) {
  EXPECT_EQ(memtx::byte_size_text(16u << 20), "16 MiB");
  EXPECT_EQ(memtx::byte_size_text(uint64_t{1} << 30), "1 GiB");
  EXPECT_EQ(memtx::byte_size_text(1500), "1500 bytes");
}

}  // namespace
