#!/usr/bin/env bash
# Builds gqa-serve and runs its main job on the built-in demo model (no download).
# Extra arguments go to gqa-generate, e.g. --prompt "Hi" --max-tokens 32.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release --target gqa-generate
exec build/release/gqa-generate --prompt "Once upon a time" --max-tokens 64 "$@"
