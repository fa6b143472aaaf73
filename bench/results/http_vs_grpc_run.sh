#!/usr/bin/env bash
# gqa-bench over gRPC vs --backend openai (HTTP + JSON + SSE) against ONE
# gqa-server, same workload and seed, back to back; the server's CPU seconds
# per run from /proc/PID/stat (utime + stime). Writes JSON results and a
# summary into $OUT (default /tmp/http_vs_grpc).
# Usage: bench/results/http_vs_grpc_run.sh BUILD_DIR [--model FILE.gguf]
set -euo pipefail
BUILD=${1:?build dir}; shift
OUT=${OUT:-/tmp/http_vs_grpc}
mkdir -p "$OUT"
SERVER=$BUILD/server/gqa-server BENCH=$BUILD/client/loadgen/gqa-bench
"$SERVER" --host 127.0.0.1 --port 0 --http-port 0 --metrics-port -1 --threads 2 "$@" \
  2> "$OUT/server.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT
until grep -q 'health SERVING' "$OUT/server.log"; do sleep 0.2; done
GRPC=$(sed -n 's/.*gRPC listening on \([0-9.:]*\).*/\1/p' "$OUT/server.log")
HTTP=$(sed -n 's/.*HTTP (OpenAI API) listening on \([0-9.:]*\).*/\1/p' "$OUT/server.log")
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{print ($14 + $15) / t}' /proc/$PID/stat; }
run() {  # name, then gqa-bench flags
  local name=$1; shift
  local before; before=$(cpu)
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  "$BENCH" --server "$GRPC" --openai-url "http://$HTTP" --no-progress \
    --result-json "$OUT/$name.json" "$@" > "$OUT/$name.txt"
  echo "$name server_cpu_s=$(awk -v a="$(cpu)" -v b="$before" 'BEGIN{print a-b}') load_before=\"$load\" load_after=\"$(cut -d' ' -f1-3 /proc/loadavg)\" threads=$(ls /proc/$PID/task | wc -l)" | tee -a "$OUT/summary.txt"
}
: > "$OUT/summary.txt"
W=(--input-len 32 --output-len 64 --seed 1)
run grpc_c64 --backend grpc --num-prompts 256 --max-concurrency 64 "${W[@]}"
run openai_c64 --backend openai --num-prompts 256 --max-concurrency 64 "${W[@]}"
run grpc_c256 --backend grpc --num-prompts 256 --max-concurrency 256 "${W[@]}"
run openai_c256 --backend openai --num-prompts 256 --max-concurrency 256 "${W[@]}"
