#!/usr/bin/env bash
# A/B of two gqa-server builds, or of one build under two settings, under
# the same load: gqa-server --backend cpu from each build directory on the
# same model, gqa-bench (build A's) over gRPC with CONCURRENCY streams of
# REQUESTS requests, INPUT_LEN-token prompts and OUTPUT_LEN output tokens
# each. Runs alternate A B A B ... so a shared machine's drift hits both
# alike. Prints one row per run, then the mean output tokens/s of each side
# and B / A; with OUT_MD also writes that table with the machine, the builds
# and the command.
#
#   bench/serve/ab_builds.sh BUILD_A BUILD_B [ROUNDS]     (ROUNDS: 3)
# Environment: MODEL_GGUF (default the Q4_1 SmolLM2 that bench/peers uses),
# CONCURRENCY (16), REQUESTS (64), INPUT_LEN (128), OUTPUT_LEN (64), THREADS
# (2), ARGS_A / ARGS_B (more gqa-server flags for each side), LABEL_A /
# LABEL_B (names in the table; default the directory and its flags), OUT_MD.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ $# -ge 2 ]] || { sed -n '2,15p' "$0" >&2; exit 2; }
build_a="$(cd "$1" && pwd)"
build_b="$(cd "$2" && pwd)"
rounds="${3:-3}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve"
model="${MODEL_GGUF:-$cache/SmolLM2-135M-Instruct.Q4_1.gguf}"
concurrency="${CONCURRENCY:-16}"
requests="${REQUESTS:-64}"
input_len="${INPUT_LEN:-128}"
output_len="${OUTPUT_LEN:-64}"
threads="${THREADS:-2}"
read -r -a args_a <<<"${ARGS_A:-}"
read -r -a args_b <<<"${ARGS_B:-}"
label_a="${LABEL_A:-$1 ${ARGS_A:-}}"
label_b="${LABEL_B:-$2 ${ARGS_B:-}}"
[[ -f "$model" ]] || { echo "ab_builds: no model at $model (set MODEL_GGUF)" >&2; exit 2; }
loadgen="$build_a/client/loadgen/gqa-bench"
for b in "$build_a/server/gqa-server" "$build_b/server/gqa-server" "$loadgen"; do
  [[ -x "$b" ]] || { echo "ab_builds: $b is not built" >&2; exit 2; }
done
work="$(mktemp -d /tmp/gqa_ab.XXXXXX)"
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# One run: sets `tput` to the output tokens/s of `build`'s server (with the
# extra flags after it) under the load.
run_once() {
  local build=$1 log="$work/server.log" port
  shift
  "$build/server/gqa-server" --model "$model" --backend cpu --threads "$threads" \
    --host 127.0.0.1 --port 0 --metrics-port -1 "$@" 2>"$log" &
  server_pid=$!
  for _ in $(seq 600); do
    grep -q "serving (health SERVING)" "$log" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  port=$(sed -n 's/.*gRPC listening on [^ ]*:\([0-9]*\) .*/\1/p' "$log" | head -1)
  "$loadgen" --server "127.0.0.1:$port" --num-prompts "$requests" --max-concurrency "$concurrency" \
    --input-len "$input_len" --output-len "$output_len" --seed 1 --no-progress --result-json "$work/run.json" \
    >"$work/bench.log" 2>&1 || { cat "$work/bench.log" >&2; exit 1; }
  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  tput=$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
assert r["failed"] == 0, "failed requests"
print("%.1f" % r["output_throughput"])' "$work/run.json")
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
a_all=() b_all=()
for round in $(seq "$rounds"); do
  run_once "$build_a" "${args_a[@]}"; a=$tput; a_all+=("$a")
  run_once "$build_b" "${args_b[@]}"; b=$tput; b_all+=("$b")
  rows+=("| $round | $a | $b | $(python3 -c "print(f'{$b / $a:.3f}')") |")
  echo "round $round: A $a  B $b output tok/s" >&2
done
mean() { python3 -c 'import sys; v = [float(x) for x in sys.argv[1:]]; print(f"{sum(v) / len(v):.1f}")' "$@"; }
mean_a=$(mean "${a_all[@]}")
mean_b=$(mean "${b_all[@]}")
table=$(
  echo "| round | A: $label_a | B: $label_b | B / A |"
  echo "|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo "| mean | $mean_a | $mean_b | $(python3 -c "print(f'{$mean_b / $mean_a:.3f}')") |"
)
echo "$table"
if [[ -n "${OUT_MD:-}" ]]; then
  {
    echo "# gqa-server A/B: $label_a vs $label_b"
    echo
    echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average before: $load_before"
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); repository at $(git -C "$repo" rev-parse --short HEAD)"
    echo "- command: ARGS_A='${ARGS_A:-}' ARGS_B='${ARGS_B:-}' bench/serve/ab_builds.sh $* (model $(basename "$model"), $concurrency streams x $requests requests, $input_len in / $output_len out, --threads $threads)"
    echo "- output tokens/s from gqa-bench, runs alternated"
    echo
    echo "$table"
  } >"$OUT_MD"
fi
