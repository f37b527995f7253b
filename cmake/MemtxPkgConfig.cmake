# MemtxPkgConfig.cmake: memtx_write_pkg_config(), which writes a memtx.pc from cmake/memtx.pc.in: the installed
# one (relocatable: paths relative to ${pcfiledir}) and the build tree's (absolute paths, with an rpath to the
# build tree's libmemtx), which the Go binding's build and tests use.
#   memtx_write_pkg_config(<output file> <prefix> <libdir> <includedir> <extra Libs flags>)
# The paths may hold generator expressions ($<TARGET_FILE_DIR:memtx>).
function(memtx_write_pkg_config output prefix libdir includedir extra_libs)
  set(MEMTX_PC_PREFIX "${prefix}")
  set(MEMTX_PC_LIBDIR "${libdir}")
  set(MEMTX_PC_INCLUDEDIR "${includedir}")
  set(MEMTX_PC_EXTRA_LIBS "${extra_libs}")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/memtx.pc.in ${output}.in @ONLY)
  file(GENERATE OUTPUT ${output} INPUT ${output}.in)
endfunction()
