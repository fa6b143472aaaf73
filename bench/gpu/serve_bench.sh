#!/usr/bin/env bash
# The `serve` stage of run_all.sh: gqa-server --backend cuda on dummy
# llama-3.2-1b bf16 weights, then gqa-bench against it (all at once, then a
# fixed rate). Writes serve_server.log, serve_bench.txt, serve_bench.json.
# usage: serve_bench.sh PKG RESULTS_DIR QUICK(0|1)
set -uo pipefail
pkg=$1 res=$2 quick=${3:-0}
port=$((20000 + RANDOM % 20000))
"$pkg/bin/gqa-server" --backend cuda --load-format dummy --preset llama-3.2-1b \
  --port "$port" --metrics-port -1 --max-num-seqs 128 --max-num-batched-tokens 2048 \
  2>"$res/serve_server.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1200); do
  grep -q "serving (health SERVING)" "$res/serve_server.log" && break
  kill -0 $pid 2>/dev/null || { cat "$res/serve_server.log"; exit 1; }
  sleep 0.1
done
cat "$res/serve_server.log"
n=256
((quick)) && n=64
"$pkg/bin/gqa-bench" --server "127.0.0.1:$port" --num-prompts "$n" --request-rates 16,inf \
  --input-len 512 --output-len 128 --seed 1 --no-progress \
  --result-json "$res/serve_bench.json" | tee "$res/serve_bench.txt"
