// tests/train/host_memory_test.cpp: retain_freed_host_memory() (train/host_memory.hpp). With glibc, a block far
// above the default mmap threshold must come from the heap afterwards (no new mmapped chunk), and freeing it must
// leave its bytes in the process as free heap, ready for the next training step, rather than give them back.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "train/host_memory.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

TEST(HostMemory, LargeFreedBlocksStayInTheHeap) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  ASSERT_TRUE(memtx::train::retain_freed_host_memory());
  constexpr size_t kBytes = 40u << 20;  // above glibc's largest dynamic mmap threshold (32 MiB)
  const struct mallinfo2 before = mallinfo2();
  char* block = static_cast<char*>(std::malloc(kBytes));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);
  const struct mallinfo2 held = mallinfo2();
  EXPECT_EQ(held.hblks, before.hblks) << "the block was mmapped";
  EXPECT_EQ(held.hblkhd, before.hblkhd);
  EXPECT_GE(held.uordblks, before.uordblks + kBytes) << "the block did not come from the heap";
  std::free(block);
  const struct mallinfo2 after = mallinfo2();
  EXPECT_GE(after.fordblks, before.fordblks + kBytes) << "the freed block was trimmed back to the kernel";
  // The next block of the same size reuses it: the heap does not grow.
  char* again = static_cast<char*>(std::malloc(kBytes));
  ASSERT_NE(again, nullptr);
  EXPECT_LE(mallinfo2().arena, after.arena);
  std::free(again);
#else
  GTEST_SKIP() << "only glibc's malloc is tuned";
#endif
}

}  // namespace
