#!/usr/bin/env bash
# Builds gqa-serve and runs every test (CPU only; GPU tests skip without a GPU).
# The newcomer's test command, and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release
cmake --build --preset release
# The real default model, for the tests that use it (they skip without it).
scripts/fetch_default_model.sh >/dev/null || echo "test.sh: tests of the default model will skip"
ctest --preset release "$@"
