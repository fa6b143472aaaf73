# gqa-server images. Two targets:
#
#   docker build -t gqa-server:cpu .                      CPU only, on debian:12-slim (the default)
#   docker build --target cuda -t gqa-server:cuda .       CUDA 13 (sm_90a, sm_80 + PTX), for a GPU
#
#   docker run -p 50051:50051 -p 9400:9400 gqa-server:cpu                  the built-in demo model
#   docker run --gpus all -v /srv/models:/models:ro -p 50051:50051 -p 9400:9400 \
#       gqa-server:cuda --model /models/llama-3.2-1b                       a real one
#
# Arguments after the image name go to gqa-server (see `gqa-server --help`).
# `docker stop` sends SIGTERM: the server drains (health NOT_SERVING, running
# requests get up to --drain-timeout, default 30 s), so give it time:
# `docker stop -t 45`. The HEALTHCHECK asks grpc.health.v1 on port 50051; if
# you move the server with --port, override it (docker run --health-cmd).
#
# Build stages compile with the release preset, -DGQA_NATIVE=OFF (portable
# binaries, no -march=native of the build machine) and without tests or
# benchmarks; runtime stages hold only the two binaries and the shared
# libraries they load (`scripts/bootstrap.sh runtime`). Checked without a
# Docker daemon by tests/deploy/dockerfile_check.py.

ARG BUILD_IMAGE=debian:12
ARG RUNTIME_IMAGE=debian:12-slim
# NVIDIA's CUDA 13 images are Ubuntu 24.04; bootstrap.sh maps the package names.
ARG CUDA_BUILD_IMAGE=nvidia/cuda:13.0.2-devel-ubuntu24.04
ARG CUDA_RUNTIME_IMAGE=nvidia/cuda:13.0.2-runtime-ubuntu24.04

# ---- sources: what the build needs, nothing else (tests/, bench/ are off) ----
FROM scratch AS source
COPY CMakeLists.txt CMakePresets.json /src/
COPY cmake/ /src/cmake/
COPY proto/ /src/proto/
COPY flags/ /src/flags/
COPY engine/ /src/engine/
COPY server/ /src/server/
COPY client/ /src/client/
COPY scripts/bootstrap.sh /src/scripts/

# ---- CPU build (Debian 12) ----
FROM ${BUILD_IMAGE} AS build-cpu
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=source /src/scripts/bootstrap.sh /tmp/bootstrap.sh
RUN /tmp/bootstrap.sh build && rm -rf /var/lib/apt/lists/*
COPY --from=source /src /src
WORKDIR /src
RUN cmake --preset release -DGQA_NATIVE=OFF -DGQA_BUILD_TESTS=OFF -DGQA_BUILD_BENCH=OFF \
          -DGQA_ENABLE_CUDA=OFF \
 && cmake --build --preset release --target gqa-server gqa-client \
 && install -D -m 0755 -t /out/bin build/release/server/gqa-server build/release/client/gqa-client

# ---- CUDA build (NVIDIA CUDA 13 devel, Ubuntu 24.04) ----
# cmake/cuda.cmake sets the targets: sm_90a and sm_80 SASS plus compute_80 PTX.
# The CUDA backend is a plugin, libgqa_cuda_plugin.so, that gqa-server loads
# for --backend cuda (engine/runner/cuda_plugin_loader.h); only it links the
# CUDA runtime and cuBLAS.
FROM ${CUDA_BUILD_IMAGE} AS build-cuda
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=source /src/scripts/bootstrap.sh /tmp/bootstrap.sh
RUN /tmp/bootstrap.sh build && rm -rf /var/lib/apt/lists/*
COPY --from=source /src /src
WORKDIR /src
# The grep fails the build if CMake did not take the CUDA toolkit.
RUN cmake --preset release -DGQA_NATIVE=OFF -DGQA_BUILD_TESTS=OFF -DGQA_BUILD_BENCH=OFF \
          -DGQA_ENABLE_CUDA=ON -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc \
      | tee /tmp/configure.log \
 && grep -q "CUDA toolkit found: ON" /tmp/configure.log \
 && cmake --build --preset release --target gqa-server gqa-client gqa_cuda_plugin \
 && install -D -m 0755 -t /out/bin build/release/server/gqa-server build/release/client/gqa-client \
 && install -D -m 0644 -t /out/lib build/release/lib/libgqa_cuda_plugin.so

# ---- runtime: CUDA (cudart and cuBLAS come with the base image; the driver
# comes from the host through the NVIDIA container toolkit) ----
FROM ${CUDA_RUNTIME_IMAGE} AS cuda
COPY --from=source /src/scripts/bootstrap.sh /tmp/bootstrap.sh
# UID 10001, not 1000: Ubuntu 24.04 images already have user "ubuntu" as 1000.
RUN /tmp/bootstrap.sh runtime && rm -rf /var/lib/apt/lists/* /tmp/bootstrap.sh \
 && groupadd --system --gid 10001 gqa \
 && useradd --system --uid 10001 --gid gqa --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin gqa \
 && mkdir -p /models
COPY --from=build-cuda /out/bin/ /usr/local/bin/
COPY --from=build-cuda /out/lib/ /usr/local/lib/
# Where the loader also looks by itself (../lib from the binary); named so a
# missing plugin is reported at this path.
ENV GQA_CUDA_PLUGIN=/usr/local/lib/libgqa_cuda_plugin.so
# Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 50051 9400 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=600s --retries=3 \
  CMD ["gqa-client", "--server", "127.0.0.1:50051", "--deadline", "4", "health"]
ENTRYPOINT ["gqa-server"]

# ---- runtime: CPU (last, so a plain `docker build .` gives this one) ----
FROM ${RUNTIME_IMAGE} AS cpu
COPY --from=source /src/scripts/bootstrap.sh /tmp/bootstrap.sh
RUN /tmp/bootstrap.sh runtime && rm -rf /var/lib/apt/lists/* /tmp/bootstrap.sh \
 && groupadd --system --gid 10001 gqa \
 && useradd --system --uid 10001 --gid gqa --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin gqa \
 && mkdir -p /models
COPY --from=build-cpu /out/bin/ /usr/local/bin/
USER 10001:10001
EXPOSE 50051 9400 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=600s --retries=3 \
  CMD ["gqa-client", "--server", "127.0.0.1:50051", "--deadline", "4", "health"]
ENTRYPOINT ["gqa-server"]
