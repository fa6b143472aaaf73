# Sanitizer builds: the `asan` (AddressSanitizer + UndefinedBehaviorSanitizer)
# and `tsan` (ThreadSanitizer) presets of CMakePresets.json set GQA_SANITIZE;
# the flags reach every target, tests and tools alike, compile and link.
#
# -fno-sanitize-recover=all: a UBSan report aborts the process (UBSan's default
# is to print and go on), so it fails its test and .ci/run like an ASan or TSan
# report does. The runtime options (halt_on_error, suppressions, ...) are the
# test presets' environment.
set(GQA_SANITIZE "" CACHE STRING
    "Sanitizers for every target: empty (none), address,undefined, or thread")
if(GQA_SANITIZE)
  if(NOT GQA_SANITIZE MATCHES "^(address,undefined|address|undefined|thread)$")
    message(FATAL_ERROR "GQA_SANITIZE=${GQA_SANITIZE}: use address,undefined or thread")
  endif()
  if(GQA_SANITIZE STREQUAL "thread" AND GQA_USE_OPENMP)
    # libgomp is not built with TSan: its barriers are invisible to it, so every
    # parallel region of the CPU backend would be reported as a race.
    message(WARNING "GQA_SANITIZE=thread with GQA_USE_OPENMP=ON: expect false reports "
                    "from OpenMP regions (the tsan preset turns GQA_USE_OPENMP off)")
  endif()
  # -g1: line tables only, what a report's stack needs (file:line per frame);
  # full -g costs the CI build a quarter more compile and link time.
  add_compile_options(-fsanitize=${GQA_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g1)
  add_link_options(-fsanitize=${GQA_SANITIZE} -fno-sanitize-recover=all)
  message(STATUS "gqa-serve: sanitizers: ${GQA_SANITIZE}")
endif()
