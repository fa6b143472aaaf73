#!/usr/bin/env bash
# Builds llama.cpp's llama-perplexity, llama-bench and llama-server from the
# llama-cpp-python sdist (PyPI), once, into a cache outside the repository.
# Nothing of llama.cpp enters the repo. Idempotent: a second run with the
# binaries present does nothing and prints where they are.
#
#   bench/peers/build_llama_cpp.sh            # build (CPU only), print the bin dir
#   JOBS=2 NICE=10 bench/peers/build_llama_cpp.sh
#
# Environment: GQA_PEERS_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve/peers),
# LLAMA_CPP_PYTHON_VERSION (default 0.3.36), JOBS (default 1), NICE (default 10),
# GQA_PEERS_CUDA=1 to build with -DGGML_CUDA=ON, PEER_TARGETS to build fewer
# (default: llama-perplexity llama-bench llama-server llama-quantize, in that
# order, so llama-perplexity is usable first; ~1 h at -j1 on a busy 2-core box).
set -euo pipefail

version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
peers="${GQA_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gqa-serve/peers}"
jobs="${JOBS:-1}"
niceness="${NICE:-10}"
src="$peers/llama_cpp_python-$version"
build="$peers/llama.cpp-$version-build${GQA_PEERS_CUDA:+-cuda}"
read -r -a targets <<< "${PEER_TARGETS:-llama-perplexity llama-bench llama-server llama-quantize}"

have_all() {
  for t in "${targets[@]}"; do [[ -x "$build/bin/$t" ]] || return 1; done
}

if have_all; then
  echo "$build/bin"
  exit 0
fi

mkdir -p "$peers"
sdist="$peers/llama_cpp_python-$version.tar.gz"
if [[ ! -f "$sdist" ]]; then
  pip download --no-deps --no-binary :all: "llama-cpp-python==$version" -d "$peers" >&2
fi
if [[ ! -d "$src/vendor/llama.cpp" ]]; then
  tar -xzf "$sdist" -C "$peers"
fi

cuda_flag=-DGGML_CUDA=OFF
[[ -n "${GQA_PEERS_CUDA:-}" ]] && cuda_flag=-DGGML_CUDA=ON
# GGML_NATIVE: tuned for this CPU, as our own Release build is.
cmake -S "$src/vendor/llama.cpp" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=ON "$cuda_flag" -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON >&2
for t in "${targets[@]}"; do
  nice -n "$niceness" cmake --build "$build" --target "$t" -j "$jobs" >&2
done
have_all
echo "$build/bin"
