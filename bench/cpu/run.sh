#!/usr/bin/env bash
# Builds and runs the CPU decode/prefill benchmark, recording the table with the
# machine, the commit and the command in bench/results/cpu_decode.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release >/dev/null
cmake --build --preset release --target gqa-bench-cpu >/dev/null
cmd=(build/release/bench/gqa-bench-cpu "$@")
out=bench/results/cpu_decode.md
# Checked before the table overwrites $out, which must not count as a change.
dirty=$(git diff --quiet -- . ':!bench/results' || echo ' (with uncommitted changes)')
{
  echo "# CPU decode and prefill (fp32, dummy weights)"
  echo
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- last-level cache: $(lscpu | sed -n 's/^L3 cache: *//p') (weights smaller than it are re-read from cache, not DRAM: > 100% of DRAM bandwidth)"
  echo "- commit: $(git rev-parse --short HEAD)$dirty"
  echo "- command: ${cmd[*]}"
  echo "- date: $(date -u +%Y-%m-%d)"
  echo
  "${cmd[@]}"
} | tee "$out"
