#!/usr/bin/env bash
# Builds gqa-serve and runs every test (CPU only; GPU tests skip without a GPU).
# The newcomer's test command, and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release
cmake --build --preset release
ctest --preset release "$@"
