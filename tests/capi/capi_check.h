/* tests/capi/capi_check.h: what the C API test files share (compiled as C99 into one test program): the pass and
 * fail counters, CHECK, EXPECT_STATUS / EXPECT_OK, and the test groups each file defines for main (capi_test.c). */
#ifndef MEMTX_CAPI_CHECK_H
#define MEMTX_CAPI_CHECK_H

#include <stdio.h>

#include "memtx.h"

extern int passed, failed;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      ++passed;                                                                \
    } else {                                                                   \
      ++failed;                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* Asserts a status has the code and its message contains fragment; frees it. */
void expect_status_at(memtx_status* st, memtx_status_code code, const char* fragment, const char* file, int line);
#define EXPECT_STATUS(call, code, fragment) expect_status_at((call), (code), (fragment), __FILE__, __LINE__)
#define EXPECT_OK(call) expect_status_at((call), MEMTX_OK, NULL, __FILE__, __LINE__)

/* capi_robustness_test.c: hostile input at the boundary (bytes that are not UTF-8, corrupt files, NUL bytes in
 * text, non-finite weights). */
void test_robustness(memtx_context* ctx);
/* capi_generate_stream_test.c: generation options of ABI 2 (callback, stop reason, new sampling fields), chat. */
void test_generate_streaming(memtx_context* ctx);

/* capi_export_test.c: memtx_model_save_hf / memtx_model_save_peft. */
void test_export_hf(memtx_context* ctx);

#endif /* MEMTX_CAPI_CHECK_H */
