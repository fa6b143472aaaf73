// The table of ggml tensor types: name, block size and bytes per block. A
// tensor of a block type stores each row as row_length / block_size blocks of
// type_size bytes (row_length a multiple of block_size).
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/gguf/gguf_file.h"

namespace gqa::gguf {

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;  // ggml's name: "f32", "q4_K", ...
  int64_t block_size;     // elements per block (1 for plain types)
  int64_t type_size;      // bytes per block
};

// The entry for a ggml type number, or null when it is not one ggml defines.
const GgmlTypeInfo* FindGgmlType(uint32_t type);
// "q4_K"; "type 77" for a number not in the table.
std::string GgmlTypeName(GgmlType type);

}  // namespace gqa::gguf
