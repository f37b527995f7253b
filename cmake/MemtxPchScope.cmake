# cmake/MemtxPchScope.cmake: keeps the torch precompiled header out of the sources that never include LibTorch.
#
# Loading the precompiled <torch/torch.h> costs seconds per source (g++ reads a ~700 MB file), more than compiling
# most of memtx's torch-free sources. memtx_use_pch() records its targets; memtx_scope_pch() (called once, after
# every target has its sources) follows each source's #include lines through memtx's own headers and marks the
# sources that reach no <torch/...>, <ATen/...> or <c10/...> header SKIP_PRECOMPILE_HEADERS. An include inside an
# #if counts as included, so a source is only ever left with the header it might need.

set(MEMTX_INCLUDE_ROOTS ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/lib ${PROJECT_SOURCE_DIR}/plugins
  ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/cli ${PROJECT_SOURCE_DIR})

# memtx_file_reaches_torch(<absolute path> <result variable>): TRUE when the file or a memtx header it includes,
# directly or not, includes a LibTorch header. Answers are remembered per file for the whole configure run.
function(memtx_file_reaches_torch path result)
  string(MAKE_C_IDENTIFIER "memtx_reaches_torch_${path}" key)
  get_property(known GLOBAL PROPERTY ${key} SET)
  if(known)
    get_property(answer GLOBAL PROPERTY ${key})
    set(${result} ${answer} PARENT_SCOPE)
    return()
  endif()
  set_property(GLOBAL PROPERTY ${key} FALSE)  # a header that includes itself again through others ends here
  set(answer FALSE)
  file(STRINGS ${path} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  get_filename_component(dir ${path} DIRECTORY)
  foreach(line IN LISTS lines)
    if(line MATCHES "include[ \t]*<(torch|ATen|c10)/")
      set(answer TRUE)
      break()
    endif()
    if(NOT line MATCHES "include[ \t]*[<\"]([^>\"]+)[>\"]")
      continue()
    endif()
    set(name ${CMAKE_MATCH_1})
    foreach(root ${dir} ${MEMTX_INCLUDE_ROOTS})
      if(EXISTS ${root}/${name} AND NOT IS_DIRECTORY ${root}/${name})
        get_filename_component(header ${root}/${name} ABSOLUTE)
        memtx_file_reaches_torch(${header} nested)
        if(nested)
          set(answer TRUE)
        endif()
        break()
      endif()
    endforeach()
    if(answer)
      break()
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY ${key} ${answer})
  set(${result} ${answer} PARENT_SCOPE)
endfunction()

# Marks the torch-free C++ sources of every target memtx_use_pch() recorded.
function(memtx_scope_pch)
  get_property(targets GLOBAL PROPERTY MEMTX_PCH_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(srcs ${target} SOURCES)
    get_target_property(target_dir ${target} SOURCE_DIR)
    foreach(src IN LISTS srcs)
      if(src MATCHES "^\\$<" OR NOT src MATCHES "\\.(cpp|cc|cxx)$")
        continue()
      endif()
      get_filename_component(path ${src} ABSOLUTE BASE_DIR ${target_dir})
      memtx_file_reaches_torch(${path} needs_torch)
      if(NOT needs_torch)
        # Kept out of the target's unity groups too: a group is one compiler run, with the header or without.
        set_source_files_properties(${path} TARGET_DIRECTORY ${target} PROPERTIES SKIP_PRECOMPILE_HEADERS ON
          SKIP_UNITY_BUILD_INCLUSION ON)
      endif()
    endforeach()
  endforeach()
endfunction()
