# The fuzz targets (fuzz/<name>_fuzzer.cc) and the libraries each links. Two
# builds use this list: fuzz/CMakeLists.txt makes libFuzzer binaries of them
# (the `fuzz` preset, clang), tests/CMakeLists.txt makes one replay test per
# target that feeds it every file of fuzz/corpus/<name> and
# fuzz/regressions/<name> (the normal build, GCC). Adding a target: fuzz/README.md.
set(GQA_FUZZ_TARGETS
  safetensors gguf llama2c hf_config tokenizer_json tokenizer_bin chat_template
  tokenizer_encode text_stream request_validation)
set(gqa_fuzz_libs_safetensors gqa_model)
set(gqa_fuzz_libs_gguf gqa_model gqa_tokenizer_gguf)
set(gqa_fuzz_libs_llama2c gqa_model)
set(gqa_fuzz_libs_hf_config gqa_model)
set(gqa_fuzz_libs_tokenizer_json gqa_tokenizer_hf)
set(gqa_fuzz_libs_tokenizer_bin gqa_tokenizer)
set(gqa_fuzz_libs_chat_template gqa_chat)
set(gqa_fuzz_libs_tokenizer_encode gqa_fuzz_support)
set(gqa_fuzz_libs_text_stream gqa_fuzz_support gqa_serving)
set(gqa_fuzz_libs_request_validation gqa_server)

# The tokenizers the encode and text-stream targets run on (fuzz/support).
if(NOT TARGET gqa_fuzz_support)
  gqa_add_module(gqa_fuzz_support ${PROJECT_SOURCE_DIR}/fuzz/support
    gqa_tokenizer gqa_tokenizer_hf gqa_tokenizer_gguf nlohmann_json::nlohmann_json)
  target_compile_definitions(gqa_fuzz_support PRIVATE
    GQA_FUZZ_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
endif()
