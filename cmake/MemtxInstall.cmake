# Installs libmemtx, its headers, the plugins and a CMake package so out-of-tree code can
# find_package(memtx) and link memtx::memtx (plugins: add_library(... MODULE) + memtx::memtx).
include(CMakePackageConfigHelpers)
install(TARGETS memtx memtx_torch EXPORT memtxTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/memtx.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/memtx DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT memtxTargets NAMESPACE memtx:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memtx)
configure_package_config_file(cmake/memtxConfig.cmake.in ${CMAKE_BINARY_DIR}/memtxConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memtx)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/memtxConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/memtxConfig.cmake ${CMAKE_BINARY_DIR}/memtxConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/memtx)

# pkg-config: <libdir>/pkgconfig/memtx.pc, its paths relative to its own folder so the install can move.
include(${CMAKE_CURRENT_LIST_DIR}/MemtxPkgConfig.cmake)
set(_memtx_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  memtx_write_pkg_config(${CMAKE_BINARY_DIR}/install-pkgconfig/memtx.pc "${CMAKE_INSTALL_PREFIX}"
    "${CMAKE_INSTALL_FULL_LIBDIR}" "${CMAKE_INSTALL_FULL_INCLUDEDIR}" "")
else()
  file(RELATIVE_PATH _memtx_pc_up "/memtx-prefix/${_memtx_pc_dir}" "/memtx-prefix")
  string(REGEX REPLACE "/$" "" _memtx_pc_up "${_memtx_pc_up}")
  memtx_write_pkg_config(${CMAKE_BINARY_DIR}/install-pkgconfig/memtx.pc "\${pcfiledir}/${_memtx_pc_up}"
    "\${prefix}/${CMAKE_INSTALL_LIBDIR}" "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}" "")
endif()
install(FILES ${CMAKE_BINARY_DIR}/install-pkgconfig/memtx.pc DESTINATION ${_memtx_pc_dir})
