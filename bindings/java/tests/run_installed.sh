#!/bin/sh
# run_installed.sh: the java_installed test: installs the build into a temporary prefix and runs
# org.memtx.InstalledCheck against the installed memtx.jar (JNI library and plugins found from the install
# layout alone). Usage: run_installed.sh BUILD_DIR JAVA TESTS_JAR
set -eu
build=$1 java=$2 tests_jar=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
jar=$(find "$work/prefix" -name memtx.jar | head -n1)
[ -n "$jar" ] || { echo "run_installed.sh: no memtx.jar installed under $work/prefix"; exit 1; }
jni=$(find "$work/prefix" -name libmemtx_java.so | head -n1)
[ -n "$jni" ] || { echo "run_installed.sh: no libmemtx_java.so installed"; exit 1; }
echo "installed: $jar $jni"
"$java" -cp "$jar:$tests_jar" org.memtx.InstalledCheck "$work/prefix"
