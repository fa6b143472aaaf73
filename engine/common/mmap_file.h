// MappedFile: a whole file mapped read-only into memory. Weight views point
// straight into the mapping, so loading a checkpoint costs no copy; the pages
// are read on first touch. Immutable after Open(): safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gqa {

class MappedFile {
 public:
  // Maps `path` read-only. An empty file gives size() == 0 and data() == nullptr.
  // Errors (missing file, a directory, mmap failure) name the path.
  static absl::StatusOr<std::shared_ptr<const MappedFile>> Open(std::string_view path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // The mapping is PROT_READ: writing through data() faults.
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace gqa
