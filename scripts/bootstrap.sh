#!/usr/bin/env bash
# Installs the packages gqa-serve builds, tests and runs with, when missing.
# Safe to run again: it only calls apt-get when something is absent.
#
#   scripts/bootstrap.sh [GROUP...]          install GROUPs (default: build test)
#   scripts/bootstrap.sh --print [GROUP...]  print their package names, one a line
#
# GROUPs:
#   build    compiler, CMake, Ninja and the -dev packages (the Dockerfile's build stages)
#   test     GoogleTest, Google Benchmark, Python gRPC, Prometheus (scripts/test.sh)
#   runtime  only the shared libraries gqa-server and gqa-client load (the runtime
#            images); tests/deploy/dockerfile_check.py checks it covers the binaries
#   fuzz     clang 14 with libFuzzer and LLVM's OpenMP runtime: the `fuzz` preset
#            that scripts/fuzz.sh builds (not in the default groups)
#
# Debian 12 is the reference. Ubuntu 24.04, the base of NVIDIA's CUDA 13 images
# that the Dockerfile's CUDA stages use, ships the same upstream versions (gRPC
# 1.51, Protobuf 3.21, abseil 20220623) under the same -dev names, but some
# runtime library packages are named differently there: the 64-bit time_t
# transition added a "t64" suffix, and its ICU is 74. ubuntu_2404_name maps
# them, so every list below names Debian 12's packages and nothing is written
# twice.
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config git
  libabsl-dev nlohmann-json3-dev libopenblas-dev libpcre2-dev libicu-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  prometheus-cpp-dev  # /metrics: registry, text format, pull exposer (brings civetweb)
  libcpp-httplib-dev  # the OpenAI-compatible HTTP front end (server/http)
  libssl-dev  # TLS files checked at startup, API keys' SHA-256 and constant-time compare
)
test_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-venv python3-pip python3-grpcio python3-protobuf python3-yaml
  python3-matplotlib  # client/loadgen/plot_bench.py, gqa-bench's charts (plot_bench_test)
  prometheus  # a real Prometheus server scrapes /metrics in a test
)
# scripts/fuzz.sh: clang's -fsanitize=fuzzer needs libFuzzer, and clang's
# -fopenmp links libomp (the CPU backend's OpenMP), not GCC's libgomp.
fuzz_packages=(
  clang-14 libfuzzer-14-dev libomp-14-dev
)
# What the binaries load (readelf -d NEEDED, mapped with dpkg -S); apt brings
# the rest (re2, c-ares, OpenSSL, zlib, libgfortran ...) as their dependencies.
runtime_packages=(
  libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623  # gRPC, Protobuf, abseil
  libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0   # /metrics: prometheus-cpp and
  libcivetweb1                                           # the exposer's HTTP server
  libcpp-httplib0.11                                     # the OpenAI HTTP front end
  libssl3                                                # server/security, server/auth
  libopenblas0-pthread libgomp1                          # CPU backend (the pthread OpenBLAS
                                                         # that openblas.pc links)
  libicu72 libpcre2-8-0                                  # HF tokenizers
  libstdc++6
)

# Debian 12 package name -> Ubuntu 24.04's.
ubuntu_2404_name() {
  case "$1" in
    libgrpc++1.51 | libgrpc29 | libprotobuf32 | libabsl20220623 | libssl3) echo "$1t64" ;;
    libicu72) echo libicu74 ;;
    libcpp-httplib0.11) echo libcpp-httplib0.14 ;;
    *) echo "$1" ;;
  esac
}

usage() {
  echo "usage: scripts/bootstrap.sh [--print] [build|test|runtime|fuzz ...]" >&2
  exit 2
}

print_only=false
groups=()
for arg in "$@"; do
  case "$arg" in
    --print) print_only=true ;;
    build | test | runtime | fuzz) groups+=("$arg") ;;
    *) usage ;;
  esac
done
if [ ${#groups[@]} -eq 0 ]; then groups=(build test); fi

distro="unknown"
if [ -r /etc/os-release ]; then
  distro="$(. /etc/os-release && echo "${ID:-unknown}-${VERSION_ID:-}")"
fi
case "$distro" in
  debian-12 | ubuntu-24.04) ;;
  *) echo "bootstrap: $distro is not Debian 12 or Ubuntu 24.04; trying Debian 12's names" >&2 ;;
esac

packages=()
for group in "${groups[@]}"; do
  declare -n list="${group}_packages"
  for p in "${list[@]}"; do
    if [ "$distro" = ubuntu-24.04 ]; then p="$(ubuntu_2404_name "$p")"; fi
    packages+=("$p")
  done
  unset -n list
done

if $print_only; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
