// gqa-dequant-dump TYPE IN OUT: dequantizes the ggml blocks of type TYPE
// (ggml's type number) in file IN to raw little-endian fp32 in file OUT.
// compare_dequant.py runs it against gguf-py's gguf.quants.dequantize.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "engine/gguf/dequantize.h"
#include "engine/gguf/ggml_types.h"

int main(int argc, char** argv) {
  using namespace gqa::gguf;
  if (argc != 4) {
    std::cerr << "usage: gqa-dequant-dump TYPE IN OUT\n";
    return 2;
  }
  const GgmlTypeInfo* info = FindGgmlType(static_cast<uint32_t>(std::stoul(argv[1])));
  if (info == nullptr) {
    std::cerr << "unknown ggml type " << argv[1] << "\n";
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary | std::ios::ate);
  std::vector<uint8_t> bytes(in ? static_cast<size_t>(in.tellg()) : 0);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in || bytes.size() % info->type_size != 0) {
    std::cerr << argv[2] << ": unreadable, or not a whole number of " << info->name << " blocks\n";
    return 2;
  }
  const int64_t n = static_cast<int64_t>(bytes.size()) / info->type_size * info->block_size;
  std::vector<float> out(n);
  if (absl::Status s = DequantizeRow(info->type, bytes.data(), out.data(), n); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::ofstream os(argv[3], std::ios::binary | std::ios::trunc);
  os.write(reinterpret_cast<const char*>(out.data()), n * sizeof(float));
  return os ? 0 : 1;
}
