#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, ASan + UBSan) and
# runs each for a bounded time on a copy of its seed corpus and regression
# inputs, then prints a table: executions, coverage (libFuzzer's final
# cov/ft), corpus size and the result per target. Exit 1 when any target
# crashed, leaked, hit a sanitizer report, ran out of memory or timed out;
# the input that did it is kept under the work directory (listed in the table).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   default 60 s, every target
#
# Environment:
#   GQA_FUZZ_WORK   where corpus copies, logs and crash inputs go
#                   (default build/fuzz/runs; emptied per target at each run)
#   GQA_FUZZ_RSS_MB libFuzzer's -rss_limit_mb (default 2560)
#   GQA_FUZZ_TIMEOUT_S  seconds one input may take before it counts as a hang (default 25)
# Packages: scripts/bootstrap.sh fuzz (clang-14, libfuzzer-14-dev, libomp-14-dev).
# fuzz/README.md: adding a target, reproducing a crash.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
if [ $# -gt 0 ]; then shift; fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
# The target list lives in fuzz/targets.cmake (GQA_FUZZ_TARGETS).
all_targets=($(sed -n '/^set(GQA_FUZZ_TARGETS/,/)/p' "$repo/fuzz/targets.cmake" |
                 sed 's/set(GQA_FUZZ_TARGETS//; s/)//'))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
  if [[ ! " ${all_targets[*]} " =~ " $t " ]]; then
    echo "fuzz.sh: unknown target '$t' (${all_targets[*]})" >&2
    exit 2
  fi
done

build="$repo/build/fuzz"
work="${GQA_FUZZ_WORK:-$build/runs}"
rss_mb="${GQA_FUZZ_RSS_MB:-2560}"
timeout_s="${GQA_FUZZ_TIMEOUT_S:-25}"

start=$(date +%s)
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
(cd "$repo" && cmake --preset fuzz "${launcher[@]}" > /dev/null)
(cd "$repo" && cmake --build --preset fuzz --target $(printf '%s_fuzzer ' "${targets[@]}"))
built=$(date +%s)
echo "fuzz.sh: built in $((built - start)) s; ${seconds} s per target"

# Which dictionary helps which target (fuzz/dict/).
dict_for() {
  case "$1" in
    safetensors) echo json.dict ;;
    gguf | hf_config | tokenizer_json | chat_template) echo "$1.dict" ;;
    *) echo "" ;;
  esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export GQA_SHARED_DIR="${GQA_SHARED_DIR:-$repo/../shared}"
# One input at a time: the CPU backend's and the GGUF loader's OpenMP workers
# would only spin beside the fuzzer (libomp waits actively), stealing its core.
export OMP_NUM_THREADS=1

mkdir -p "$work"
rows=()
failed=0
for t in "${targets[@]}"; do
  dir="$work/$t"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -r "$repo/fuzz/corpus/$t/." "$dir/corpus/"
  if [ -d "$repo/fuzz/regressions/$t" ]; then cp -r "$repo/fuzz/regressions/$t/." "$dir/corpus/"; fi
  seeds=$(find "$dir/corpus" -type f | wc -l)
  dict_args=()
  dict="$(dict_for "$t")"
  if [ -n "$dict" ]; then dict_args=(-dict="$repo/fuzz/dict/$dict"); fi
  rc=0
  "$build/fuzz/${t}_fuzzer" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" \
    -malloc_limit_mb="$rss_mb" -timeout="$timeout_s" -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" "${dict_args[@]}" "$dir/corpus" > "$dir/log.txt" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.txt" | tail -1)
  # libFuzzer's last status line: "#N  DONE  cov: C ft: F corp: K/S ...".
  status_line=$(grep -E '^#[0-9]+' "$dir/log.txt" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$status_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$status_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<< "$status_line")
  secs=$(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$dir/log.txt" | tail -1)
  result="ok"
  if [ "$rc" -ne 0 ]; then
    failed=1
    kind=$(grep -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer): [a-z-]+|runtime error|deadly signal|timeout|out-of-memory' "$dir/log.txt" | head -1 || true)
    inputs=$(find "$dir/artifacts" -type f -printf '%P ' 2>/dev/null)
    result="FAILED rc=$rc ${kind:-?}; kept: ${dir#$repo/}/artifacts/${inputs}"
  fi
  rows+=("| $t | $seeds | ${execs:-?} | $(( ${execs:-0} / seconds )) | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${secs:-?} | $result |")
  echo "fuzz.sh: $t: ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}: $result"
done
end=$(date +%s)

{
  echo "scripts/fuzz.sh $seconds: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, build $((built - start)) s, total $((end - start)) s"
  echo
  echo "| target | seeds | executions | exec/s | cov | ft | corpus (files/bytes) | slowest input (s) | result |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$work/summary.md"
exit $failed
