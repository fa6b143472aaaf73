# Every dependency comes from a Debian package (scripts/bootstrap.sh installs them).
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
# gqa_openmp: what the CPU backend and the model loader link for their parallel
# loops. GQA_USE_OPENMP=OFF (the tsan preset: libgomp is invisible to TSan)
# compiles them with -fopenmp-simd only: the `omp simd` hints stay, every
# `omp parallel` pragma is ignored and its loop runs on the calling thread.
option(GQA_USE_OPENMP "Run the CPU backend's parallel loops on OpenMP threads" ON)
add_library(gqa_openmp INTERFACE)
if(GQA_USE_OPENMP)
  target_link_libraries(gqa_openmp INTERFACE OpenMP::OpenMP_CXX)
else()
  target_compile_options(gqa_openmp INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-fopenmp-simd>)
endif()
find_package(absl REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(PkgConfig REQUIRED)
# Debian's OpenBLAS (the pthreads flavour); cblas.h lives in /usr/include/x86_64-linux-gnu.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
# ICU (libicu-dev): Unicode normalization (NFC) and character properties for HF tokenizers.
pkg_check_modules(ICU_UC REQUIRED IMPORTED_TARGET icu-uc)
# The OpenAI-compatible HTTP front end (server/http): cpp-httplib (Debian
# libcpp-httplib-dev 0.11, a shared library built with OpenSSL, zlib and brotli:
# its pkg-config cflags must be used, they change the structs' layout).
pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
if(GQA_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# The CUDA backend is configured only where a toolkit is found.
include(CheckLanguage)
check_language(CUDA)
if(CMAKE_CUDA_COMPILER)
  set(GQA_HAVE_CUDA_TOOLKIT ON)
else()
  set(GQA_HAVE_CUDA_TOOLKIT OFF)
endif()
option(GQA_ENABLE_CUDA "Build the CUDA backend where a CUDA toolkit is found" ON)
if(NOT GQA_ENABLE_CUDA)
  set(GQA_HAVE_CUDA_TOOLKIT OFF)
endif()
message(STATUS "gqa-serve: CUDA toolkit found: ${GQA_HAVE_CUDA_TOOLKIT}")
if(GQA_HAVE_CUDA_TOOLKIT)
  include(${CMAKE_CURRENT_LIST_DIR}/cuda.cmake)
endif()

# metrics: prometheus-cpp (Debian prometheus-cpp-dev 1.0.1): the registry,
# the text format and the pull exposer (server/metrics). Its config finds
# civetweb (civetweb::civetweb, civetweb::civetweb-cpp: the exposer's HTTP
# server), zlib and curl itself; prometheus-cpp-dev depends on all of them.
find_package(prometheus-cpp CONFIG REQUIRED)  # ships no version file

# gRPC serving (proto/, server/, client/): Debian's libgrpc++-dev ships gRPC's
# CMake config (it finds Protobuf, absl, re2, c-ares, OpenSSL, ZLIB itself);
# protoc comes from protobuf-compiler, the C++ and Python plugins from
# protobuf-compiler-grpc.
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_program(GQA_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_program(GQA_GRPC_PYTHON_PLUGIN grpc_python_plugin)
