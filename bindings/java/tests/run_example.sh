#!/bin/sh
# run_example.sh: the java_example test: runs examples/java/TrainAndGenerate on configs/cpu_small.yaml for 3
# steps and checks it exits 0 after printing progress up to step 3 and a generated continuation.
# Usage: run_example.sh JAVA CLASSPATH CONFIG
java=$1 classpath=$2 config=$3
out=$("$java" -cp "$classpath" TrainAndGenerate "$config" 3 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq 0 ] || { echo "run_example.sh: the example exited $rc"; exit 1; }
printf '%s\n' "$out" | grep -q '^progress: DONE step 3/3' || { echo "run_example.sh: no DONE progress at step 3/3"; exit 1; }
printf '%s\n' "$out" | grep -q '^generated: ' || { echo "run_example.sh: nothing generated"; exit 1; }
echo "java example passed"
