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
