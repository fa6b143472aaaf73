# shellcheck shell=bash disable=SC2154  # $pkg is the caller's
# Sourced by run_all.sh and check_package.sh: finds the shared libraries a
# package (bench/gpu/package_build.sh) needs on this machine. In: $pkg (the
# package directory). Out: $libpath, for LD_LIBRARY_PATH of the packaged
# binaries only (Python and PyTorch keep their own libraries). Returns 4,
# having said why, when a library cannot be found.
#
# Order: the packaged libraries (unpacked into /tmp), CUDA's toolkit, pip's
# CUDA wheels, and last the packaged C++ runtime (libstdc++, libgcc_s,
# libgomp), used only if this machine has none that satisfies the binaries.
package_env() {
  local libdir="$pkg/lib"
  if [[ -f "$pkg/libs.tar.xz" ]]; then
    libdir=$(mktemp -d /tmp/gqa_pkg_libs.XXXXXX)
    tar -xJf "$pkg/libs.tar.xz" -C "$libdir" || {
      echo "package_env: cannot unpack $pkg/libs.tar.xz" >&2
      return 4
    }
    libdir="$libdir/lib"
  fi
  libpath="$libdir"
  local d
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [[ -d "$d" ]] && libpath="$libpath:$d"
  done
  # pip's CUDA wheels (cu13) as a fallback for cudart/cublasLt.
  local pipdirs=""
  if command -v python3 >/dev/null 2>&1; then
    pipdirs=$(python3 - 2>/dev/null <<'PY'
import importlib, os
for m in ("nvidia.cu13", "nvidia.cublas", "nvidia.cuda_runtime"):
    try:
        mod = importlib.import_module(m)
        for p in getattr(mod, "__path__", []):
            for sub in ("lib", "lib64"):
                if os.path.isdir(os.path.join(p, sub)):
                    print(os.path.join(p, sub))
    except Exception:
        pass
PY
    )
  fi
  for d in $pipdirs; do libpath="$libpath:$d"; done
  # ldd says "not found" for a missing library and "version ... not found"
  # for one too old (a glibc older than the build machine's, say).
  _package_missing() {
    LD_LIBRARY_PATH="$1" ldd "$pkg"/bin/* 2>&1 | grep "not found" | sort -u
  }
  if [[ -n "$(_package_missing "$libpath")" ]]; then libpath="$libpath:$libdir/fallback"; fi
  local missing
  missing=$(_package_missing "$libpath")
  if [[ -n "$missing" ]]; then
    echo "package_env: shared libraries not found:" >&2
    echo "$missing" >&2
    return 4
  fi
  return 0
}
