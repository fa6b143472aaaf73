// Reading and writing .safetensors files (https://github.com/huggingface/safetensors):
//   [u64 little-endian N][N bytes of JSON header][data section]
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end)}
// with offsets relative to the data section. Open() validates the whole file
// before any view is handed out, so a corrupt file is a clear error, never a
// read out of bounds.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/common/mmap_file.h"
#include "engine/common/tensor.h"

namespace gqa {

// Header lengths above this are rejected as corrupt (real headers are < 1 MB).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100ull << 20;

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// One memory-mapped .safetensors file. Immutable after Open(): shareable
// between threads. Supports F32, F16 and BF16 tensors of rank <= 4.
class SafetensorsFile {
 public:
  // Maps and validates `path`. Errors name the file and, where one is at
  // fault, the tensor.
  static absl::StatusOr<std::shared_ptr<const SafetensorsFile>> Open(std::string_view path);
  // Validates `bytes`, which must outlive the result (a fuzzer or test calls
  // this; mapping() is null then); `name` stands for the path in errors.
  static absl::StatusOr<std::shared_ptr<const SafetensorsFile>> FromBytes(
      std::span<const uint8_t> bytes, std::string name);

  const std::string& path() const { return path_; }
  std::vector<std::string> Names() const;  // sorted
  bool Contains(std::string_view name) const { return tensors_.find(name) != tensors_.end(); }
  // A read-only view into the mapping; NotFound naming the file when absent.
  // A tensor whose bytes are not aligned to its element size in the file is
  // served from an aligned copy made at Open().
  absl::StatusOr<Tensor> Get(std::string_view name) const;

  const std::shared_ptr<const MappedFile>& mapping() const { return mapping_; }

 private:
  SafetensorsFile() = default;
  // Open and FromBytes: validates `bytes` and builds the views into them.
  static absl::StatusOr<std::shared_ptr<const SafetensorsFile>> Parse(
      std::span<const uint8_t> bytes, std::string path, std::shared_ptr<const MappedFile> mapping);

  std::string path_;
  std::shared_ptr<const MappedFile> mapping_;  // null for FromBytes
  std::map<std::string, Tensor, std::less<>> tensors_;
  std::vector<std::unique_ptr<uint64_t[]>> aligned_copies_;
};

// Writes `tensors` to `path` (replacing it), each in its own dtype or, when
// `dtype` is given, converted to it. Strided 2-D views are written densely.
// The header is padded with spaces to a multiple of 8 bytes and the data is
// ordered F32 first, so every tensor is aligned to its element size, with no
// holes (as HF's own writer does).
absl::Status WriteSafetensors(std::string_view path, const std::vector<NamedTensor>& tensors,
                              std::optional<DType> dtype = std::nullopt);

// "F32", "F16", "BF16": the safetensors spelling.
std::string_view SafetensorsDTypeName(DType dtype);

}  // namespace gqa
