# Finds memtx's dependencies: LibTorch 2.x from the pinned PyPI torch wheel (CMAKE_PREFIX_PATH =
# torch.utils.cmake_prefix_path; scripts/requirements.txt says which and why), the CUDA toolkit when present,
# and Debian's packages for the rest. LibTorch is wrapped in an imported target without its global flags.
#
# CUDA: MEMTX_CUDA=AUTO (the default) makes a CUDA build when a CUDA compiler (nvcc) is found, ON insists on
# one, OFF never compiles CUDA sources. A CUDA build compiles the plugins' .cu files for
# CMAKE_CUDA_ARCHITECTURES (default 80;90: A100, H100/H200) and defines MEMTX_WITH_CUDA for them (and for lib/capi/status.cpp, which reports it). No GPU is
# needed to build; tests that need one are labelled gpu and skip without it.
set(MEMTX_CUDA AUTO CACHE STRING "Compile memtx's CUDA sources: AUTO (when nvcc is found), ON or OFF")
set_property(CACHE MEMTX_CUDA PROPERTY STRINGS AUTO ON OFF)
set(MEMTX_WITH_CUDA OFF)
if(NOT MEMTX_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    # Torch's CMake files reset CMAKE_CUDA_ARCHITECTURES; memtx's targets take theirs from this copy.
    set(MEMTX_CUDA_ARCHITECTURES ${CMAKE_CUDA_ARCHITECTURES})
    if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
      set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
    endif()
    enable_language(CUDA)
    unset(CMAKE_CUDA_ARCHITECTURES)  # else Torch's CMake files warn that they ignore it
    unset(CMAKE_CUDA_ARCHITECTURES CACHE)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(MEMTX_WITH_CUDA ON)
  elseif(MEMTX_CUDA STREQUAL "ON")
    message(FATAL_ERROR "memtx: MEMTX_CUDA=ON but no CUDA compiler was found. Install the CUDA toolkit 13 "
      "(nvcc; NVIDIA's cuda-toolkit-13-0 package) and put nvcc on PATH or set CUDACXX, or configure with -DMEMTX_CUDA=AUTO.")
  endif()
endif()

# The PyPI torch wheel is a CUDA build: its CMake files need the CUDA toolkit even to build for the CPU. Say so
# plainly instead of failing deep inside them.
find_path(MEMTX_TORCH_CONFIG_DIR TorchConfig.cmake PATH_SUFFIXES Torch share/cmake/Torch)
if(NOT MEMTX_TORCH_CONFIG_DIR)
  message(FATAL_ERROR "memtx: LibTorch not found. Run scripts/install-deps.sh (it installs the pinned torch wheel "
    "into .venv/), then configure with -DCMAKE_PREFIX_PATH=\"$(.venv/bin/python -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')\" "
    "(scripts/build.sh does both).")
endif()
if(EXISTS "${MEMTX_TORCH_CONFIG_DIR}/../../../lib/libtorch_cuda.so" AND NOT MEMTX_WITH_CUDA)
  message(FATAL_ERROR "memtx: the LibTorch in ${MEMTX_TORCH_CONFIG_DIR} is a CUDA build, and its CMake files need "
    "the CUDA toolkit, which was not found (or MEMTX_CUDA=OFF). Install the CUDA toolkit 13 (nvcc, cuBLAS, cuDNN; "
    "NVIDIA's cuda-toolkit-13-0 and cudnn9-cuda-13 packages) and put nvcc on PATH or set CUDACXX=/usr/local/cuda/bin/nvcc.")
endif()

find_package(Torch REQUIRED)
if(Torch_VERSION VERSION_LESS 2.0)
  message(FATAL_ERROR "memtx: LibTorch ${Torch_VERSION} found; memtx needs LibTorch 2.x (scripts/requirements.txt)")
endif()
message(STATUS "memtx: LibTorch ${Torch_VERSION} in ${MEMTX_TORCH_CONFIG_DIR}; CUDA sources: ${MEMTX_WITH_CUDA}")
add_library(memtx_torch INTERFACE)
# libstdc++ first: the wheel's libtorch.so exports its own (broken when called from outside) copies of
# std::filesystem functions, and the dynamic linker binds each symbol to the first library in load order that
# defines it; with libstdc++.so.6 needed before libtorch.so, std::filesystem::remove_all and friends are the
# system's. Without this every binary that calls them crashes (a jump to address 0).
target_link_libraries(memtx_torch INTERFACE stdc++ ${TORCH_LIBRARIES})
# The wheel lives in .venv/ below the source tree: its headers are a build-tree path (an installed memtx finds
# LibTorch again through find_dependency(Torch)).
target_include_directories(memtx_torch SYSTEM INTERFACE "$<BUILD_INTERFACE:${TORCH_INCLUDE_DIRS}>")
add_library(memtx::torch ALIAS memtx_torch)
# Installed binaries find LibTorch where they were built against it (the wheel's torch/lib folder).
get_filename_component(MEMTX_TORCH_LIB_DIR "${TORCH_LIBRARY}" DIRECTORY)
set(CMAKE_INSTALL_RPATH "${MEMTX_TORCH_LIB_DIR}")

find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Boost 1.70 REQUIRED COMPONENTS filesystem)
find_package(Threads REQUIRED)
if(MEMTX_BUILD_CLI)
  find_package(cxxopts REQUIRED)
endif()
