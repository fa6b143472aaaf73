#!/usr/bin/env bash
# The CUDA test binaries of a package (run_all.sh's `tests` stage):
# usage: run_gpu_tests.sh PKG RESULTS_DIR   (LD_LIBRARY_PATH already set)
# Writes RESULTS_DIR/test_<name>.log and RESULTS_DIR/tests.md; exit 1 if any failed.
set -uo pipefail
pkg=$1
res=$2
rc=0
rows=()
for t in kv_memory_plan_test cuda_device_query_test cuda_ops_test cuda_rope_test cuda_attention_test cuda_model_test; do
  "$pkg/bin/$t" --gtest_brief=1 > "$res/test_$t.log" 2>&1
  r=$?
  ((r != 0)) && rc=1
  # On the GPU machine a skipped CUDA test means the runtime saw no device.
  if [[ $t == cuda_* ]] && grep -q "^\[  SKIPPED \]" "$res/test_$t.log"; then
    rc=1
    summary_note=" (SKIPPED on a GPU machine: the CUDA runtime saw no device?)"
  else
    summary_note=""
  fi
  summary=$(grep -E "^\[  (PASSED|FAILED|SKIPPED) " "$res/test_$t.log" | head -3 | tr '\n' ' ')
  rows+=("| $t | rc=$r ${summary}${summary_note} |")
  echo "$t: rc=$r $summary$summary_note"
  grep -E "^\[  FAILED  \]" "$res/test_$t.log" | head -20
done
{
  echo "## Tests"
  echo
  echo "| test binary | result |"
  echo "|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
} > "$res/tests.md"
exit $rc
