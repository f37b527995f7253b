/* memtx/export.h: symbol visibility for libmemtx and its plugins. */
#ifndef MEMTX_EXPORT_H
#define MEMTX_EXPORT_H
#if defined(_WIN32)
#  define MEMTX_API_EXPORT __declspec(dllexport)
#  define MEMTX_API_IMPORT __declspec(dllimport)
#else
#  define MEMTX_API_EXPORT __attribute__((visibility("default")))
#  define MEMTX_API_IMPORT __attribute__((visibility("default")))
#endif
#if defined(MEMTX_BUILDING_LIBRARY)
#  define MEMTX_API MEMTX_API_EXPORT
#else
#  define MEMTX_API MEMTX_API_IMPORT
#endif
#endif
