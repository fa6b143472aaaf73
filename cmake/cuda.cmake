# The CUDA toolchain for engine/backend/cuda (included by dependencies.cmake
# when a toolkit is found). Targets: Hopper SASS built for sm_90a (so
# Hopper-only instructions such as wgmma are available to the kernels),
# Ampere SASS (sm_80) and compute_80 PTX, which the driver compiles for any
# newer GPU. They are given as explicit -gencode flags: CMake 3.25's
# CUDA_ARCHITECTURES cannot name the "a" targets, and nvcc 13's -arch=sm_90a
# shorthand also runs a plain sm_90 pass.
set(CMAKE_CUDA_ARCHITECTURES OFF)
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(GQA_CUDA_GENCODE_FLAGS
    -gencode=arch=compute_90a,code=sm_90a
    -gencode=arch=compute_80,code=sm_80
    -gencode=arch=compute_80,code=compute_80)
option(GQA_CUDA_PTXAS_VERBOSE "Print ptxas register/spill reports for the CUDA kernels" OFF)

# gqa_cuda_target_options(TARGET): the project-wide add_compile_options
# (-Wall ..., -march=native) are host-compiler flags nvcc rejects, so they
# are limited to C++ sources; CUDA sources get the gencode flags and pass
# the warnings to the host compiler.
function(gqa_cuda_target_options target)
  get_target_property(opts ${target} COMPILE_OPTIONS)
  set(wrapped "")
  if(opts)
    foreach(o IN LISTS opts)
      list(APPEND wrapped "$<$<COMPILE_LANGUAGE:CXX>:${o}>")
    endforeach()
  endif()
  set_property(TARGET ${target} PROPERTY COMPILE_OPTIONS "${wrapped}")
  set(cuda_flags ${GQA_CUDA_GENCODE_FLAGS} -Xcompiler=-Wall,-Wextra,-Wno-unused-parameter
                 -Xptxas=-warn-spills,-warn-lmem-usage)
  if(GQA_CUDA_PTXAS_VERBOSE)
    list(APPEND cuda_flags -Xptxas=-v)
  endif()
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CUDA>:${cuda_flags}>")
  set_target_properties(${target} PROPERTIES CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON)
endfunction()
