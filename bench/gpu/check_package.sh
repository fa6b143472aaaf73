#!/usr/bin/env bash
# Checks, before any device time is spent, that the GPU package
# (bench/gpu/package_build.sh -> build/gpu) runs on a bare machine: a chroot
# holding only glibc, bash, the few tools run_all.sh uses, the CUDA toolkit's
# libraries (bind-mounted) and the repository (read-only). None of the Debian
# -dev packages' libraries and no C++ runtime are in it, so the package's own
# libraries (and its fallback libstdc++) must carry everything. In there:
#   - package_env.sh (what run_all.sh sources) resolves every library;
#   - each CUDA test binary starts and skips (no GPU here), the others pass;
#   - gqa-server serves the demo model on the CPU, answers gqa-client health
#     and a short gqa-bench run; `--backend cuda` fails with a clear message.
# Needs root (chroot, mounts). Exit 0 when all of that holds.
#
# usage: bench/gpu/check_package.sh   (GQA_GPU_PKG overrides build/gpu)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
pkg_rel=${GQA_GPU_PKG:-build/gpu}
[[ $(id -u) == 0 ]] || { echo "check_package.sh: needs root (chroot)" >&2; exit 2; }
[[ -x "$pkg_rel/bin/gqa-server" ]] || { echo "check_package.sh: no package at $pkg_rel" >&2; exit 2; }

jail=$(mktemp -d /tmp/gqa_bare.XXXXXX)
mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  rm -rf "$jail"
}
trap cleanup EXIT

# ---- the root file system: usr-merged like Debian 12 and Ubuntu 24.04 ----
mkdir -p "$jail"/{usr/bin,usr/lib/x86_64-linux-gnu,usr/lib64,tmp,dev,proc,work,usr/local/cuda/lib64,etc}
ln -s usr/bin "$jail/bin"
ln -s usr/lib "$jail/lib"
ln -s usr/lib64 "$jail/lib64"
chmod 1777 "$jail/tmp"
echo "127.0.0.1 localhost" > "$jail/etc/hosts"

# Copies a file to the same path in the jail (resolving links to the file).
put() { mkdir -p "$jail$(dirname "$1")" && cp -L "$1" "$jail$1"; }
tools=(bash env ls cat grep sed awk tar xz sort uniq head tail tr cut mktemp dirname basename rm
       mkdir sleep timeout date seq wc id)
for t in "${tools[@]}"; do
  path=$(command -v "$t")
  put "$path"
  # Shared libraries of the tools: never the C++ runtime (the package brings it).
  ldd "$path" | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
    case "$(basename "$lib")" in
      libstdc++*|libgcc_s*|libgomp*) echo "check_package.sh: $t needs $lib" >&2; exit 1 ;;
      *) [[ -e "$jail$lib" ]] || put "$lib" ;;
    esac
  done
done
ln -sf bash "$jail/usr/bin/sh"
put /usr/bin/ldd
# ldd runs the dynamic loader on each binary: glibc's own libraries are there.
for lib in /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/{libc,libm,libdl,libpthread,librt}.so.*; do
  [[ -e "$jail$lib" ]] || put "$lib"
done

bind() {  # bind SRC DST [ro]
  mount --bind "$1" "$2"
  mounts+=("$2")
  [[ ${3:-} == ro ]] && mount -o remount,bind,ro "$2"
  return 0
}
bind /dev "$jail/dev"
mount -t proc proc "$jail/proc"
mounts+=("$jail/proc")
bind /usr/local/cuda/lib64 "$jail/usr/local/cuda/lib64" ro
bind "$root" "$jail/work" ro

# ---- inside ----
cat > "$jail/tmp/inside.sh" <<EOF
set -uo pipefail
cd /work
pkg=/work/$pkg_rel
source bench/gpu/package_env.sh
package_env || exit 4
echo "libraries: \$libpath"
[[ \$libpath == *fallback* ]] && echo "  (the packaged C++ runtime is in use: this machine has none)"
failed=0
for t in kv_memory_plan_test cuda_device_query_test cuda_ops_test cuda_rope_test cuda_attention_test cuda_model_test; do
  out=\$(LD_LIBRARY_PATH=\$libpath "\$pkg/bin/\$t" --gtest_brief=1 2>&1)
  rc=\$?
  summary=\$(echo "\$out" | grep -E "^\[  (PASSED|SKIPPED|FAILED) " | tr '\n' ' ')
  echo "\$t: rc=\$rc \$summary"
  ((rc == 0)) || { echo "\$out" | tail -20; failed=1; }
done
port=\$((30000 + RANDOM % 20000))
LD_LIBRARY_PATH=\$libpath "\$pkg/bin/gqa-server" --port \$port --metrics-port -1 --threads 2 \
  2>/tmp/server.log &
pid=\$!
for _ in \$(seq 600); do
  grep -q "serving (health SERVING)" /tmp/server.log && break
  kill -0 \$pid 2>/dev/null || break
  sleep 0.1
done
if LD_LIBRARY_PATH=\$libpath "\$pkg/bin/gqa-client" --server 127.0.0.1:\$port health; then
  LD_LIBRARY_PATH=\$libpath "\$pkg/bin/gqa-bench" --server 127.0.0.1:\$port --num-prompts 4 \
    --input-len 16 --output-len 8 --seed 1 --no-progress | tail -4 || failed=1
else
  echo "gqa-server did not come up:"; cat /tmp/server.log; failed=1
fi
kill -TERM \$pid 2>/dev/null
wait \$pid
echo "gqa-server exit after SIGTERM: \$?"
if LD_LIBRARY_PATH=\$libpath "\$pkg/bin/gqa-server" --backend cuda --port \$port --metrics-port -1 \
    2>/tmp/cuda.log; then
  echo "gqa-server --backend cuda started without a GPU"; failed=1
else
  echo "gqa-server --backend cuda without a GPU: \$(grep -i cuda /tmp/cuda.log | head -2)"
fi
exit \$failed
EOF
echo "== bare-machine check of $pkg_rel ($(tr '\n' ' ' < "$pkg_rel/MANIFEST"))"
if chroot "$jail" /usr/bin/env -i PATH=/usr/bin HOME=/tmp /usr/bin/bash /tmp/inside.sh; then
  echo "check_package.sh: OK"
else
  rc=$?
  echo "check_package.sh: FAILED (rc=$rc)"
  exit "$rc"
fi
