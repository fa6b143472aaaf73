#include "engine/gguf/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/common/mmap_file.h"
#include "engine/common/status_macros.h"
#include "engine/gguf/ggml_types.h"
#include "engine/gguf/gguf_encoding.h"

namespace gqa::gguf {
namespace {

using internal::Load;
using internal::MinEncodedSize;

constexpr uint32_t kMaxDims = 4;     // GGML_MAX_DIMS
constexpr int kMaxArrayNesting = 8;  // arrays of arrays of ...
constexpr uint64_t kMaxAlignment = 1 << 20;

bool IsFixedSize(ValueType t) { return t != ValueType::kString && t != ValueType::kArray; }

}  // namespace

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kUint8:
      return "uint8";
    case ValueType::kInt8:
      return "int8";
    case ValueType::kUint16:
      return "uint16";
    case ValueType::kInt16:
      return "int16";
    case ValueType::kUint32:
      return "uint32";
    case ValueType::kInt32:
      return "int32";
    case ValueType::kFloat32:
      return "float32";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "string";
    case ValueType::kArray:
      return "array";
    case ValueType::kUint64:
      return "uint64";
    case ValueType::kInt64:
      return "int64";
    case ValueType::kFloat64:
      return "float64";
  }
  return "unknown";
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

// A bounds-checked cursor over the file's bytes. Every read names `what`
// (the field being read) in its error.
class GgufParser {
 public:
  GgufParser(std::span<const uint8_t> bytes, GgufFile* file) : bytes_(bytes), file_(file) {}

  absl::Status Parse();

 private:
  uint64_t left() const { return bytes_.size() - pos_; }
  absl::Status Error(absl::string_view what, absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(file_->name_, ": ", what, ": ", problem));
  }
  absl::Status Truncated(absl::string_view what) const {
    return Error(what, absl::StrCat("truncated (file ends at byte ", bytes_.size(), ", needed ",
                                    "more at byte ", pos_, ")"));
  }
  absl::Status Need(uint64_t n, absl::string_view what) const {
    return n <= left() ? absl::OkStatus() : Truncated(what);
  }
  template <typename T>
  absl::StatusOr<T> Read(absl::string_view what) {
    GQA_RETURN_IF_ERROR(Need(sizeof(T), what));
    T v = Load<T>(bytes_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }
  absl::StatusOr<absl::string_view> ReadString(absl::string_view what);
  absl::StatusOr<ValueType> ReadValueType(absl::string_view what);
  // Skips one encoded value of type `t`, checking it fits; `depth` bounds nesting.
  absl::Status SkipValue(ValueType t, absl::string_view what, int depth);
  absl::Status ParseKeyValue(uint64_t index);
  absl::Status ParseTensorInfo(uint64_t index, std::vector<uint64_t>* offsets);
  absl::Status PlaceTensors(const std::vector<uint64_t>& offsets);

  std::span<const uint8_t> bytes_;
  uint64_t pos_ = 0;
  GgufFile* file_;
};

absl::StatusOr<absl::string_view> GgufParser::ReadString(absl::string_view what) {
  GQA_ASSIGN_OR_RETURN(uint64_t len, Read<uint64_t>(absl::StrCat(what, " (string length)")));
  if (len > left()) {
    return Error(what, absl::StrCat("string length ", len, " runs past the end of the file (",
                                    left(), " bytes left)"));
  }
  absl::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
  pos_ += len;
  return s;
}

absl::StatusOr<ValueType> GgufParser::ReadValueType(absl::string_view what) {
  GQA_ASSIGN_OR_RETURN(uint32_t t, Read<uint32_t>(what));
  if (t > static_cast<uint32_t>(ValueType::kFloat64)) {
    return Error(what, absl::StrCat("unknown value type ", t));
  }
  return static_cast<ValueType>(t);
}

absl::Status GgufParser::SkipValue(ValueType t, absl::string_view what, int depth) {
  if (t == ValueType::kString) return ReadString(what).status();
  if (t != ValueType::kArray) {
    GQA_RETURN_IF_ERROR(Need(MinEncodedSize(t), what));
    pos_ += MinEncodedSize(t);
    return absl::OkStatus();
  }
  if (depth >= kMaxArrayNesting) {
    return Error(what, absl::StrCat("arrays nested deeper than ", kMaxArrayNesting));
  }
  GQA_ASSIGN_OR_RETURN(ValueType elem, ReadValueType(absl::StrCat(what, " (array element type)")));
  GQA_ASSIGN_OR_RETURN(uint64_t count, Read<uint64_t>(absl::StrCat(what, " (array length)")));
  const uint64_t min_size = MinEncodedSize(elem);
  if (count > left() / min_size) {
    return Error(what,
                 absl::StrCat("array of ", count, " ", std::string(ValueTypeName(elem)),
                              " elements runs past the end of the file (", left(), " bytes left)"));
  }
  if (IsFixedSize(elem)) {
    pos_ += count * min_size;
    return absl::OkStatus();
  }
  for (uint64_t i = 0; i < count; ++i) {
    GQA_RETURN_IF_ERROR(SkipValue(elem, absl::StrCat(what, "[", i, "]"), depth + 1));
  }
  return absl::OkStatus();
}

absl::Status GgufParser::ParseKeyValue(uint64_t index) {
  const std::string where = absl::StrCat("metadata entry #", index);
  GQA_ASSIGN_OR_RETURN(absl::string_view key, ReadString(absl::StrCat(where, " key")));
  const std::string what = absl::StrCat("metadata key '", key, "'");
  GQA_ASSIGN_OR_RETURN(ValueType type, ReadValueType(absl::StrCat(what, " value type")));
  Value v;
  v.type = type;
  if (type == ValueType::kArray) {
    // Element type and count are read here for the Value, then the whole
    // array is validated by SkipValue from its start.
    const uint64_t array_start = pos_;
    GQA_ASSIGN_OR_RETURN(v.elem_type, ReadValueType(absl::StrCat(what, " (array element type)")));
    GQA_ASSIGN_OR_RETURN(v.count, Read<uint64_t>(absl::StrCat(what, " (array length)")));
    const uint64_t payload_start = pos_;
    pos_ = array_start;  // SkipValue rereads the array header
    GQA_RETURN_IF_ERROR(SkipValue(ValueType::kArray, what, 0));
    v.payload = bytes_.subspan(payload_start, pos_ - payload_start);
  } else if (type == ValueType::kString) {
    GQA_ASSIGN_OR_RETURN(absl::string_view s, ReadString(what));
    v.payload = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  } else {
    const uint64_t start = pos_;
    GQA_RETURN_IF_ERROR(SkipValue(type, what, 0));
    v.payload = bytes_.subspan(start, pos_ - start);
  }
  auto [it, inserted] = file_->values_.try_emplace(std::string(key), v);
  if (!inserted) return Error(what, "duplicate key");
  file_->keys_.emplace_back(key);
  return absl::OkStatus();
}

absl::Status GgufParser::ParseTensorInfo(uint64_t index, std::vector<uint64_t>* offsets) {
  GQA_ASSIGN_OR_RETURN(absl::string_view name,
                       ReadString(absl::StrCat("tensor info #", index, " name")));
  const std::string what = absl::StrCat("tensor '", name, "'");
  GQA_ASSIGN_OR_RETURN(uint32_t n_dims, Read<uint32_t>(absl::StrCat(what, " n_dims")));
  if (n_dims == 0 || n_dims > kMaxDims) {
    return Error(what, absl::StrCat("has ", n_dims, " dimensions (1 to ", kMaxDims, " allowed)"));
  }
  TensorInfo info;
  info.name = std::string(name);
  int64_t numel = 1;
  for (uint32_t i = 0; i < n_dims; ++i) {
    GQA_ASSIGN_OR_RETURN(uint64_t d, Read<uint64_t>(absl::StrCat(what, " dims[", i, "]")));
    if (d == 0 || d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Error(what,
                   absl::StrCat("dims[", i, "] = ", static_cast<int64_t>(d), " is not positive"));
    }
    if (__builtin_mul_overflow(numel, static_cast<int64_t>(d), &numel)) {
      return Error(what, "the product of its dims overflows");
    }
    info.dims.push_back(static_cast<int64_t>(d));
  }
  GQA_ASSIGN_OR_RETURN(uint32_t type, Read<uint32_t>(absl::StrCat(what, " type")));
  const GgmlTypeInfo* ti = FindGgmlType(type);
  if (ti == nullptr) return Error(what, absl::StrCat("unknown ggml type ", type));
  info.type = ti->type;
  if (info.dims[0] % ti->block_size != 0) {
    return Error(what, absl::StrCat("row length ", info.dims[0], " is not a multiple of ",
                                    std::string(ti->name), "'s block size ", ti->block_size));
  }
  int64_t nbytes;
  if (__builtin_mul_overflow(numel / ti->block_size, ti->type_size, &nbytes)) {
    return Error(what, "its size in bytes overflows");
  }
  info.nbytes = static_cast<size_t>(nbytes);
  GQA_ASSIGN_OR_RETURN(uint64_t offset, Read<uint64_t>(absl::StrCat(what, " offset")));
  offsets->push_back(offset);
  auto [it, inserted] = file_->tensor_index_.try_emplace(info.name, file_->tensors_.size());
  if (!inserted) return Error(what, "duplicate tensor name");
  file_->tensors_.push_back(std::move(info));
  return absl::OkStatus();
}

// Points each tensor into the data section after checking its offset is
// aligned, in range, and that no two tensors' bytes overlap.
absl::Status GgufParser::PlaceTensors(const std::vector<uint64_t>& offsets) {
  std::vector<TensorInfo>& tensors = file_->tensors_;
  const uint64_t align = file_->alignment_;
  const uint64_t data_size = bytes_.size() - std::min<uint64_t>(file_->data_offset_, bytes_.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string what = absl::StrCat("tensor '", tensors[i].name, "'");
    const uint64_t off = offsets[i];
    if (off % align != 0) {
      return Error(
          what, absl::StrCat("data offset ", off, " is not a multiple of the alignment ", align));
    }
    if (off > data_size || tensors[i].nbytes > data_size - off) {
      return Error(what,
                   absl::StrCat("data [", off, ", +", tensors[i].nbytes,
                                ") runs past the end of the data section (", data_size, " bytes)"));
    }
    tensors[i].data = bytes_.data() + file_->data_offset_ + off;
  }
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return offsets[a] < offsets[b]; });
  for (size_t k = 1; k < order.size(); ++k) {
    const size_t prev = order[k - 1], cur = order[k];
    if (offsets[prev] + tensors[prev].nbytes > offsets[cur]) {
      return Error(absl::StrCat("tensor '", tensors[cur].name, "'"),
                   absl::StrCat("data at offset ", offsets[cur], " overlaps tensor '",
                                tensors[prev].name, "' at offset ", offsets[prev]));
    }
  }
  return absl::OkStatus();
}

absl::Status GgufParser::Parse() {
  GQA_ASSIGN_OR_RETURN(uint32_t magic, Read<uint32_t>("magic"));
  if (std::memcmp(&magic, "GGUF", 4) != 0) return Error("magic", "not a GGUF file (no 'GGUF')");
  GQA_ASSIGN_OR_RETURN(uint32_t version, Read<uint32_t>("version"));
  if (version != 2 && version != 3) {
    return Error("version", absl::StrCat(version, " is not supported (2 and 3 are",
                                         version == 1       ? "; version 1 is obsolete)"
                                         : version > 0xffff ? "; a big-endian file?)"
                                                            : ")"));
  }
  file_->version_ = version;
  GQA_ASSIGN_OR_RETURN(uint64_t n_tensors, Read<uint64_t>("tensor count"));
  GQA_ASSIGN_OR_RETURN(uint64_t n_kv, Read<uint64_t>("metadata count"));
  // A key/value takes at least 8 + 4 + 1 bytes, a tensor info 8 + 4 + 8 + 4 + 8.
  if (n_kv > left() / 13) {
    return Error("metadata count",
                 absl::StrCat(n_kv, " entries cannot fit in the ", left(), " bytes left"));
  }
  for (uint64_t i = 0; i < n_kv; ++i) GQA_RETURN_IF_ERROR(ParseKeyValue(i));
  if (n_tensors > left() / 32) {
    return Error("tensor count", absl::StrCat(n_tensors, " tensor infos cannot fit in the ", left(),
                                              " bytes left"));
  }
  if (const Value* a = file_->Find("general.alignment"); a != nullptr) {
    if (a->type != ValueType::kUint32) {
      return Error("metadata key 'general.alignment'",
                   absl::StrCat("is a ", std::string(ValueTypeName(a->type)), ", not a uint32"));
    }
    const uint32_t align = Load<uint32_t>(a->payload.data());
    if (align == 0 || (align & (align - 1)) != 0 || align > kMaxAlignment) {
      return Error("metadata key 'general.alignment'",
                   absl::StrCat(align, " is not a power of two up to ", kMaxAlignment));
    }
    file_->alignment_ = align;
  }
  file_->tensors_.reserve(n_tensors);
  std::vector<uint64_t> offsets;
  offsets.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) GQA_RETURN_IF_ERROR(ParseTensorInfo(i, &offsets));
  const uint64_t align = file_->alignment_;
  file_->data_offset_ = (pos_ + align - 1) / align * align;
  if (n_tensors > 0 && file_->data_offset_ > bytes_.size()) {
    return Error("data section",
                 absl::StrCat("starts at byte ", file_->data_offset_,
                              ", past the end of the file (", bytes_.size(), " bytes)"));
  }
  return PlaceTensors(offsets);
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::FromBytes(std::span<const uint8_t> bytes,
                                                              std::string name) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->name_ = std::move(name);
  GgufParser parser(bytes, file.get());
  GQA_RETURN_IF_ERROR(parser.Parse());
  return file;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(std::string_view path) {
  GQA_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> mapped, MappedFile::Open(path));
  GQA_ASSIGN_OR_RETURN(
      std::unique_ptr<GgufFile> file,
      FromBytes(std::span<const uint8_t>(mapped->data(), mapped->size()), std::string(path)));
  file->keep_alive_ = std::move(mapped);
  return file;
}

const Value* GgufFile::Find(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

absl::StatusOr<const Value*> GgufFile::Get(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(name_, ": metadata key '", std::string(key), "' not found"));
  }
  return v;
}

bool IsGgufFile(std::string_view path_sv) {
  const std::string path(path_sv);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0) return true;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in && std::memcmp(magic, "GGUF", 4) == 0;
}

const TensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace gqa::gguf
