# list_java_sources.cmake: writes the Java files SWIG generated in DIR to OUT, one quoted path a line, for
# javac's @file argument (cmake -DDIR=... -DOUT=... -P list_java_sources.cmake). Written every time it runs,
# which is when the JNI library (and so SWIG's output) was rebuilt.
file(GLOB sources "${DIR}/*.java")
if(NOT sources)
  message(FATAL_ERROR "no Java files in ${DIR}: did swig run?")
endif()
list(SORT sources)
set(text "")
foreach(f IN LISTS sources)
  string(APPEND text "\"${f}\"\n")
endforeach()
file(WRITE "${OUT}" "${text}")
