# Every dependency comes from a Debian package (scripts/bootstrap.sh installs them).
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(absl REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(PkgConfig REQUIRED)
# Debian's OpenBLAS (the pthreads flavour); cblas.h lives in /usr/include/x86_64-linux-gnu.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
# ICU (libicu-dev): Unicode normalization (NFC) and character properties for HF tokenizers.
pkg_check_modules(ICU_UC REQUIRED IMPORTED_TARGET icu-uc)
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
message(STATUS "gqa-serve: CUDA toolkit found: ${GQA_HAVE_CUDA_TOOLKIT}")
