// The tokenizers the encode and incremental-decode fuzzers run on, loaded
// once per process: always the byte tokenizer and a tiny byte-level BPE
// tokenizer.json built here (so a checkout without ../shared still covers the
// HF pipeline), then the real vocabularies found at fuzz time: llama2.c
// tokenizer.bin files and HF tokenizer.json files under GQA_SHARED_DIR
// (default: ../shared beside the checkout), and the default model's GGUF
// vocabulary (GQA_DEFAULT_MODEL_GGUF, else the cache path the tests use).
// A crash input names its tokenizer by index, so reproduce it on a machine
// with the same files (fuzz/README.md).
//
// Thread ownership: built on first use (a function-local static); the
// tokenizers are immutable and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace gqa::fuzz {

struct NamedTokenizer {
  std::string name;
  std::unique_ptr<Tokenizer> tokenizer;
};

// Never empty; the first two entries are always the byte and tiny BPE ones.
const std::vector<NamedTokenizer>& FuzzTokenizers();

// The tiny byte-level BPE tokenizer.json text (a seed for tokenizer_json too).
const std::string& TinyBpeTokenizerJson();

}  // namespace gqa::fuzz
