#!/usr/bin/env bash
# Builds, on a machine with the CUDA toolkit and the Debian -dev packages, the
# CUDA tests, gqa-bench-gpu and gqa-logits-dump, and packs them into build/gpu
# with the shared libraries they need beyond CUDA and glibc (abseil, OpenBLAS,
# ...), so a bare GPU machine can run them: carry build/gpu there and run
# bench/gpu/run_all.sh (it sets LD_LIBRARY_PATH). Portable code: -march=native
# is off, since the GPU machine's CPU may differ from this one.
#
# usage: bench/gpu/package_build.sh   (GQA_GPU_BUILD_DIR overrides build/cuda)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${GQA_GPU_BUILD_DIR:-build/cuda}
pkg=build/gpu
targets=(cuda_ops_test cuda_attention_test cuda_rope_test cuda_model_test kv_memory_plan_test
         cuda_device_query_test gqa-bench-gpu gqa-logits-dump gqa-server gqa-client gqa-bench)

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGQA_NATIVE=OFF -DGQA_ENABLE_CUDA=ON >/dev/null
grep -q "GQA_HAVE_CUDA_TOOLKIT" "$build/CMakeCache.txt" || true
ninja -C "$build" "${targets[@]}" gqa_cuda_plugin

rm -rf "$pkg"
mkdir -p "$pkg/bin" "$pkg/lib" "$pkg/lib/fallback"
for t in "${targets[@]}"; do
  src=$(find "$build" -type f -name "$t" -perm -u+x | head -1)
  [[ -n "$src" ]] || { echo "package_build: $t was not built" >&2; exit 1; }
  cp "$src" "$pkg/bin/$t"
  strip --strip-unneeded "$pkg/bin/$t"
done
# gqa-server loads the CUDA backend from next to itself (cuda_plugin_loader.h).
cp "$build/lib/libgqa_cuda_plugin.so" "$pkg/bin/"

# Shared libraries: CUDA's (cudart, cublasLt) and glibc's come from the GPU
# machine; the C++ runtime (libstdc++, libgcc_s, libgomp) only as a fallback
# that run_all.sh uses if that machine lacks it (a newer system one wins).
for t in "${targets[@]}" libgqa_cuda_plugin.so; do
  ldd "$pkg/bin/$t" | awk '$3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  name=$(basename "$lib")
  case "$name" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libcuda.so*|libcudart.so*|libcublas*|libnvidia*) ;;
    libstdc++.so*|libgcc_s.so*|libgomp.so*) cp -L "$lib" "$pkg/lib/fallback/$name" ;;
    *) cp -L "$lib" "$pkg/lib/$name" ;;
  esac
done

# OpenBLAS alone is 35 MiB; xz brings the libraries to a few MiB (run_all.sh
# unpacks them into /tmp).
tar -cf - -C "$pkg" lib | xz -T2 -6 > "$pkg/libs.tar.xz"
rm -rf "$pkg/lib"

{
  echo "built: $(date -u +%Y-%m-%dT%H:%MZ) on $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "nvcc: $(nvcc --version | tail -1)"
  echo "gencode: sm_90a, sm_80, compute_80 PTX"
} > "$pkg/MANIFEST"

size_kib=$(du -sk "$pkg" | cut -f1)
tree_kib=$(git ls-files -co --exclude-standard -z | du -ck --files0-from=- 2>/dev/null | tail -1 | cut -f1)
echo "package: $pkg $((size_kib / 1024)) MiB (+ working tree $((tree_kib / 1024)) MiB; the device carry limit is 64 MiB)"
if (( size_kib + tree_kib > 60 * 1024 )); then
  echo "package_build: too large to carry" >&2
  exit 1
fi
