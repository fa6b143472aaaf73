#!/usr/bin/env bash
# Every GPU test and benchmark of issue 5 in one call, on a bare CUDA machine
# (CUDA toolkit, Python with PyTorch and transformers; no Debian -dev
# packages). Uses the package bench/gpu/package_build.sh made (build/gpu:
# binaries + the shared libraries they need beyond CUDA and glibc), so the
# device call must carry build/gpu.
#
# usage: bench/gpu/run_all.sh [--quick] [STAGE...]
#   STAGE: tests hf attention model gqa serve sanitize   (default: all but sanitize)
#   --quick: fewer shapes and repetitions (a smoke run)
# Results: bench/results/gpu-<date>/ (CSV, logs, report.md) and, when $OUT is
# set, report.md, summary.txt and results.tar.gz in $OUT. A short summary is
# printed last. Each stage has a time limit so the whole call ends within
# GQA_TIME_BUDGET seconds (default 560); a failing stage does not stop the rest.
# Exit: 0 all stages passed, 1 some failed, 3 no GPU, 4 package missing or incomplete.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
start=$(date +%s)
budget=${GQA_TIME_BUDGET:-560}
pkg=${GQA_GPU_PKG:-$root/build/gpu}

quick=0
stages=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    tests|hf|attention|model|gqa|serve|sanitize) stages+=("$arg") ;;
    *) echo "run_all.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
((${#stages[@]})) || stages=(tests hf attention model gqa serve)

# ---- preflight ----
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "run_all.sh: no GPU (nvidia-smi finds no device); nothing to run" >&2
  exit 3
fi
if [[ ! -x "$pkg/bin/gqa-bench-gpu" ]]; then
  echo "run_all.sh: no package at $pkg: run bench/gpu/package_build.sh on the build machine and carry build/gpu" >&2
  exit 4
fi
# shellcheck source=bench/gpu/package_env.sh
source "$root/bench/gpu/package_env.sh"
package_env || exit 4
# Only our binaries see the packaged libraries (each stage sets LD_LIBRARY_PATH);
# Python and PyTorch keep their own.

stamp=$(date -u +%Y%m%d-%H%M%S)
res="$root/bench/results/gpu-$stamp"
mkdir -p "$res"
{
  echo "# GPU results $stamp"
  echo
  echo "- device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
  echo "- package: $(tr '\n' ';' < "$pkg/MANIFEST")"
  echo "- command: bench/gpu/run_all.sh $*"
  echo "- measured on a GPU: every number below (none are estimates)"
  echo
} > "$res/header.md"
echo "results: $res"

status_lines=()
failed=0
remaining() { echo $((budget - ($(date +%s) - start))); }
# stage NAME LIMIT_SECONDS COMMAND...: runs with a limit (capped by what is
# left of the budget), logs to $res/NAME.log, records pass/fail/timeout.
stage() {
  local name=$1 limit=$2
  shift 2
  local left
  left=$(remaining)
  ((left - 10 < limit)) && limit=$((left - 10))
  if ((limit < 15)); then
    status_lines+=("$name: skipped (time budget spent)")
    failed=1
    return
  fi
  echo "== $name (limit ${limit}s)"
  local t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" > "$res/$name.log" 2>&1
  local rc=$?
  local dt=$(($(date +%s) - t0))
  tail -n 25 "$res/$name.log"
  if ((rc == 0)); then
    status_lines+=("$name: ok (${dt}s)")
  elif ((rc == 124 || rc == 137)); then
    status_lines+=("$name: TIMEOUT after ${dt}s (partial results in $name.log)")
    failed=1
  else
    status_lines+=("$name: FAILED rc=$rc (${dt}s, see $name.log)")
    failed=1
  fi
}

has() { [[ " ${stages[*]} " == *" $1 "* ]]; }

if has tests; then
  stage tests 180 env LD_LIBRARY_PATH="$libpath" bench/gpu/run_gpu_tests.sh "$pkg" "$res"
fi

if has hf; then
  stage hf 150 env PYTHONUNBUFFERED=1 GQA_PKG="$pkg" GQA_LIBPATH="$libpath" python3 bench/gpu/hf_parity.py \
    --dump-tool "$root/bench/gpu/logits_dump.sh" --work-dir /tmp/gqa_hf_parity --out-md "$res/hf_parity.md"
fi

copy=0
gemm=0
if has attention || has model || has gqa; then
  stage ceilings 60 env LD_LIBRARY_PATH="$libpath" "$pkg/bin/gqa-bench-gpu" ceilings --csv "$res/ceilings.csv"
  copy=$(awk -F, '$1=="copy_GBs"{print $2}' "$res/ceilings.csv" 2>/dev/null)
  gemm=$(awk -F, '$1=="gemm_bf16_TFLOPs"{print $2}' "$res/ceilings.csv" 2>/dev/null)
  copy=${copy:-0}
  gemm=${gemm:-0}
fi
ceil_flags=(--copy-gbs "$copy" --gemm-tflops "$gemm")

if has attention; then
  shapes=()
  ((quick)) && shapes=(--batches 1,64 --contexts 2048,8192 --kv-heads 32,8,1 --reps 10)
  stage attention_ours 120 env LD_LIBRARY_PATH="$libpath" "$pkg/bin/gqa-bench-gpu" attention \
    --csv "$res/attention_ours.csv" "${ceil_flags[@]}" "${shapes[@]}"
  tshapes=()
  ((quick)) && tshapes=(--batches 1,64 --contexts 2048,8192 --kv-heads 32,8,1 --reps 10)
  stage attention_torch 150 env PYTHONUNBUFFERED=1 python3 bench/gpu/attention_torch.py \
    --csv "$res/attention_torch.csv" --copy-gbs "$copy" "${tshapes[@]}"
fi

if has model; then
  mshapes=()
  ((quick)) && mshapes=(--batches 1,64 --contexts 1024 --reps 5 --prompt-len 1024)
  stage model 200 env LD_LIBRARY_PATH="$libpath" "$pkg/bin/gqa-bench-gpu" model --preset llama-3-8b \
    --csv "$res/decode.csv" --prefill-csv "$res/prefill.csv" "${ceil_flags[@]}" "${mshapes[@]}"
fi

if has gqa; then
  gshapes=()
  ((quick)) && gshapes=(--kv-heads 32,8,1 --reps 5)
  stage gqa 200 env LD_LIBRARY_PATH="$libpath" "$pkg/bin/gqa-bench-gpu" gqa --preset llama-3-8b \
    --csv "$res/gqa.csv" "${ceil_flags[@]}" "${gshapes[@]}"
fi

if has serve; then
  # The whole server on the GPU: --backend cuda through the plugin, the KV pool
  # from --gpu-memory-utilization, gqa-bench streaming over gRPC.
  stage serve 150 env LD_LIBRARY_PATH="$libpath" bench/gpu/serve_bench.sh "$pkg" "$res" "$quick"
fi

if has sanitize; then
  if command -v compute-sanitizer >/dev/null 2>&1; then
    filter='*bf16*:*f32*'
    ((quick)) && filter='*bf16_H8KV2_B16_D128*:Dtypes/CudaOpsTest.*/bf16'
    stage memcheck 240 env LD_LIBRARY_PATH="$libpath" compute-sanitizer --tool memcheck --error-exitcode 9 \
      "$pkg/bin/cuda_attention_test" --gtest_brief=1 "--gtest_filter=$filter"
    stage racecheck 240 env LD_LIBRARY_PATH="$libpath" compute-sanitizer --tool racecheck --error-exitcode 9 \
      "$pkg/bin/cuda_attention_test" --gtest_brief=1 '--gtest_filter=*bf16_H16KV2_B16_D128*:*Dtypes*SplitKv*/bf16'
  else
    status_lines+=("sanitize: compute-sanitizer not found")
  fi
fi

python3 bench/gpu/summarize.py "$res" > "$res/summary.txt" 2>&1
printf '%s\n' "${status_lines[@]}" >> "$res/summary.txt"
if [[ -n "${OUT:-}" && -d "${OUT:-}" ]]; then
  cp "$res/report.md" "$res/summary.txt" "$OUT/" 2>/dev/null
  tar -czf "$OUT/results.tar.gz" -C "$(dirname "$res")" "$(basename "$res")"
fi
echo
echo "==== summary ($(($(date +%s) - start))s; full report: $res/report.md)"
cat "$res/summary.txt"
exit $failed
