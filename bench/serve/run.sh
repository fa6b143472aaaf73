#!/usr/bin/env bash
# Serving benchmark on the CPU: builds gqa-server and gqa-bench, starts the
# server on dummy weights of a real shape (default stories15m: no download),
# sweeps request rates with gqa-bench and records the table, with the machine,
# the commit and the command, in bench/results/serving_cpu.md (+ .json, and
# .svg drawn from the .json by client/loadgen/plot_bench.py when a python3 with
# matplotlib is found: Debian python3-matplotlib).
#
#   bench/serve/run.sh [gqa-bench flags...]   e.g. --request-rates 2,8,inf
# GQA_BENCH_PRESET and GQA_SERVER_ARGS override the model and server flags;
# GQA_BUILD_DIR builds and runs in that (configured) build directory instead of
# the release preset's build/release.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${GQA_BUILD_DIR:-build/release}
if [ -z "${GQA_BUILD_DIR:-}" ]; then cmake --preset release >/dev/null; fi
cmake --build "$build" --target gqa-server gqa-bench >/dev/null
plot_python=
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c "import matplotlib" 2>/dev/null; then plot_python=$candidate; break; fi
done

preset=${GQA_BENCH_PRESET:-stories15m}
read -r -a extra_server_args <<<"${GQA_SERVER_ARGS:-}"
server_cmd=("$build/server/gqa-server" --load-format dummy --preset "$preset" --backend cpu
            --port 0 --metrics-port -1 "${extra_server_args[@]}")
bench_args=(--num-prompts 200 --request-rates 4,8,16,inf --input-len-dist sharegpt --input-len 96
            --output-len-dist sharegpt --output-len 64 --seed 1 --slo-ttft 500 --slo-tpot 50 "$@")
out=bench/results/serving_cpu
dirty=$(git diff --quiet -- . ':!bench/results' || echo ' (with uncommitted changes)')

log=$(mktemp)
"${server_cmd[@]}" 2>"$log" &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 600); do
  grep -q "serving (health SERVING)" "$log" && break
  kill -0 $server_pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
port=$(sed -n 's/.*gRPC listening on [^ ]*:\([0-9]*\) .*/\1/p' "$log" | head -1)
bench_cmd=("$build/client/loadgen/gqa-bench" --server "127.0.0.1:$port" "${bench_args[@]}"
           --result-json "$out.json" --no-progress)
plot_cmd=("${plot_python:-python3}" client/loadgen/plot_bench.py "$out.json" -o "$out.svg")
{
  echo "# Serving on the CPU: gqa-bench against gqa-server"
  echo
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- commit: $(git rev-parse --short HEAD)$dirty"
  echo "- server: ${server_cmd[*]}"
  echo "- command: ${bench_cmd[*]}"
  echo "- server log: $(grep -E 'KV cache|backend:' "$log" | tr '\n' ' ')"
  echo "- date: $(date -u +%Y-%m-%d)"
  echo "- plot: serving_cpu.svg (latency and throughput per request rate: ${plot_cmd[*]}); details: serving_cpu.json"
  echo
  echo '```'
  "${bench_cmd[@]}"
  echo '```'
} | tee "$out.md"
if [ -n "$plot_python" ]; then
  "${plot_cmd[@]}"
else
  echo "run.sh: no python3 with matplotlib (Debian: python3-matplotlib): $out.svg not drawn" >&2
fi
