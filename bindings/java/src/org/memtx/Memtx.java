/* Memtx.java: library-wide facts: versions and build information of the loaded libmemtx. */
package org.memtx;

/** Versions and build information of the loaded libmemtx. */
public final class Memtx {
  private Memtx() {}

  /** "MAJOR.MINOR.PATCH" of libmemtx. */
  public static String version() {
    return MemtxNative.memtx_version();
  }

  /** The C ABI version of libmemtx (MEMTX_ABI_VERSION). */
  public static int abiVersion() {
    return MemtxNative.memtx_abi_version();
  }

  /** JSON: memtx and LibTorch versions, CUDA, BLAS, threads, plugin ABI (memtx_build_info). */
  public static String buildInfo() {
    return Out.text(MemtxNative::memtx_build_info);
  }
}
