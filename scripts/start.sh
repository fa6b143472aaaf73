#!/usr/bin/env bash
# Builds gqa-serve and starts its main job: gqa-server on the built-in demo
# model (no download), gRPC on :50051, Prometheus metrics on :9400/metrics.
# Extra arguments go to gqa-server, e.g. --model PATH --port 50052.
# Try it from another shell:
#   build/release/client/gqa-client stream --prompt "Once upon a time" --max-tokens 64
# Ctrl-C (SIGINT) or SIGTERM drains it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release --target gqa-server gqa-client
exec build/release/server/gqa-server "$@"
