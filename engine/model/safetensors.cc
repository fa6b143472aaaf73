#include "engine/model/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"
#include "engine/model/host_tensor.h"
#include "nlohmann/json.hpp"

namespace gqa {
namespace {

using Json = nlohmann::json;

std::optional<DType> DTypeFromSafetensors(const std::string& name) {
  if (name == "F32") return DType::kF32;
  if (name == "F16") return DType::kF16;
  if (name == "BF16") return DType::kBF16;
  return std::nullopt;
}

// A JSON value as a non-negative integer no larger than 2^62, or nullopt.
std::optional<uint64_t> NonNegativeInt(const Json& v) {
  if (v.is_number_unsigned()) {
    const uint64_t x = v.get<uint64_t>();
    if (x <= (1ull << 62)) return x;
  }
  return std::nullopt;  // negative, fractional, too large or not a number
}

struct Entry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // relative to the data section
};

// Parses and checks one header entry against a data section of `data_size` bytes.
absl::StatusOr<Entry> ParseEntry(const std::string& name, const Json& v, uint64_t data_size,
                                 const std::string& path) {
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": tensor '", name, "': ", what));
  };
  if (!v.is_object()) return error("header entry is not an object");
  auto dtype_it = v.find("dtype");
  auto shape_it = v.find("shape");
  auto offsets_it = v.find("data_offsets");
  if (dtype_it == v.end() || !dtype_it->is_string()) return error("missing string 'dtype'");
  if (shape_it == v.end() || !shape_it->is_array()) return error("missing array 'shape'");
  if (offsets_it == v.end() || !offsets_it->is_array()) return error("missing 'data_offsets'");

  Entry e;
  e.name = name;
  const std::string dtype_name = dtype_it->get<std::string>();
  std::optional<DType> dtype = DTypeFromSafetensors(dtype_name);
  if (!dtype)
    return error(absl::StrCat("dtype ", dtype_name, " is not supported (F32, F16, BF16)"));
  e.dtype = *dtype;

  if (shape_it->size() > 4) return error(absl::StrCat("rank ", shape_it->size(), " > 4"));
  uint64_t numel = 1;
  for (const Json& d : *shape_it) {
    std::optional<uint64_t> n = NonNegativeInt(d);
    if (!n) return error(absl::StrCat("shape ", shape_it->dump(), " is not non-negative integers"));
    if (__builtin_mul_overflow(numel, *n, &numel) || numel > (1ull << 62)) {
      return error(absl::StrCat("shape ", shape_it->dump(), " is too large"));
    }
    e.shape.push_back(static_cast<int64_t>(*n));
  }

  const Json& off = *offsets_it;
  std::optional<uint64_t> begin, end;
  if (off.size() == 2) begin = NonNegativeInt(off[0]), end = NonNegativeInt(off[1]);
  if (!begin || !end) {
    return error(absl::StrCat("data_offsets ", off.dump(), " is not [begin, end] integers"));
  }
  e.begin = *begin;
  e.end = *end;
  if (e.begin > e.end) return error(absl::StrCat("data_offsets ", off.dump(), ": begin > end"));
  if (e.end > data_size) {
    return error(absl::StrCat("data_offsets ", off.dump(), " run past the data section (",
                              data_size, " bytes)"));
  }
  const uint64_t expected = numel * DTypeSize(e.dtype);
  if (e.end - e.begin != expected) {
    return error(absl::StrCat("data_offsets ", off.dump(), " span ", e.end - e.begin,
                              " bytes but shape ", shape_it->dump(), " of ", dtype_name, " needs ",
                              expected));
  }
  return e;
}

// No two non-empty byte ranges may share a byte.
absl::Status CheckNoOverlap(std::vector<Entry>& entries, const std::string& path) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin == e.end) continue;
    if (prev != nullptr && e.begin < prev->end) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": tensors '", prev->name, "' and '",
                                                     e.name, "' overlap in the data section"));
    }
    if (prev == nullptr || e.end > prev->end) prev = &e;
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view SafetensorsDTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    default:  // safetensors holds no ggml block types
      break;
  }
  return "?";
}

absl::StatusOr<std::shared_ptr<const SafetensorsFile>> SafetensorsFile::Open(
    std::string_view path_sv) {
  GQA_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> mapping, MappedFile::Open(path_sv));
  const std::span<const uint8_t> bytes(mapping->data(), mapping->size());
  std::string path = mapping->path();
  return Parse(bytes, std::move(path), std::move(mapping));
}

absl::StatusOr<std::shared_ptr<const SafetensorsFile>> SafetensorsFile::FromBytes(
    std::span<const uint8_t> bytes, std::string name) {
  return Parse(bytes, std::move(name), nullptr);
}

absl::StatusOr<std::shared_ptr<const SafetensorsFile>> SafetensorsFile::Parse(
    std::span<const uint8_t> byte_span, std::string path,
    std::shared_ptr<const MappedFile> mapping) {
  const uint8_t* bytes = byte_span.data();
  const uint64_t size = byte_span.size();
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
  };
  if (size < 8) return error(absl::StrCat("truncated: ", size, " bytes, no 8-byte header length"));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];  // little-endian
  if (header_len == 0) return error("header length is 0");
  if (header_len > kSafetensorsMaxHeaderBytes) {
    return error(absl::StrCat("header length ", header_len, " is implausibly large (limit ",
                              kSafetensorsMaxHeaderBytes, ")"));
  }
  if (header_len > size - 8) {
    return error(absl::StrCat("header length ", header_len, " runs past the end of the file (",
                              size, " bytes): truncated or not a safetensors file"));
  }
  const char* header = reinterpret_cast<const char*>(bytes + 8);
  const Json j = Json::parse(header, header + header_len, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return error("header is not valid JSON");
  if (!j.is_object()) return error("header is not a JSON object");

  const uint64_t data_size = size - 8 - header_len;
  std::vector<Entry> entries;
  for (const auto& [name, value] : j.items()) {
    if (name == "__metadata__") continue;
    GQA_ASSIGN_OR_RETURN(Entry e, ParseEntry(name, value, data_size, path));
    entries.push_back(std::move(e));
  }
  GQA_RETURN_IF_ERROR(CheckNoOverlap(entries, path));

  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = std::move(path);
  file->mapping_ = std::move(mapping);
  const uint8_t* data = bytes + 8 + header_len;
  for (const Entry& e : entries) {
    Tensor t;
    t.dtype = e.dtype;
    t.ndim = static_cast<int>(e.shape.size());
    for (int i = 0; i < t.ndim; ++i) t.shape[i] = e.shape[i];
    t.row_stride = t.ndim >= 2 ? t.shape[t.ndim - 1] : 0;
    const uint8_t* p = data + e.begin;
    if (reinterpret_cast<uintptr_t>(p) % DTypeSize(e.dtype) != 0) {
      // Legal but unaligned (a header length that is not a multiple of 8): copy,
      // since the kernels may use aligned vector loads.
      const size_t nbytes = e.end - e.begin;
      auto copy = std::make_unique<uint64_t[]>((nbytes + 7) / 8);
      std::memcpy(copy.get(), p, nbytes);
      p = reinterpret_cast<const uint8_t*>(copy.get());
      file->aligned_copies_.push_back(std::move(copy));
    }
    t.data = const_cast<uint8_t*>(p);  // read-only by contract: weights are never written
    file->tensors_.emplace(e.name, t);
  }
  return std::shared_ptr<const SafetensorsFile>(std::move(file));
}

std::vector<std::string> SafetensorsFile::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors_) names.push_back(name);
  return names;
}

absl::StatusOr<Tensor> SafetensorsFile::Get(std::string_view name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    return absl::NotFoundError(absl::StrCat(path(), ": no tensor '", std::string(name), "'"));
  }
  return it->second;
}

absl::Status WriteSafetensors(std::string_view path_sv, const std::vector<NamedTensor>& tensors,
                              std::optional<DType> dtype) {
  const std::string path(path_sv);
  // Data order: larger elements first, so every tensor stays aligned.
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto out_dtype = [&](size_t i) { return dtype.value_or(tensors[i].tensor.dtype); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return DTypeSize(out_dtype(a)) > DTypeSize(out_dtype(b));
  });

  Json header = Json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (size_t i : order) {
    const NamedTensor& nt = tensors[i];
    if (nt.name.empty() || nt.name == "__metadata__" || header.contains(nt.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("writing ", path, ": bad or duplicate tensor name '", nt.name, "'"));
    }
    const uint64_t nbytes = nt.tensor.numel() * DTypeSize(out_dtype(i));
    std::vector<int64_t> shape(nt.tensor.shape.begin(), nt.tensor.shape.begin() + nt.tensor.ndim);
    header[nt.name] = {{"dtype", std::string(SafetensorsDTypeName(out_dtype(i)))},
                       {"shape", shape},
                       {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');

  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  uint8_t len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<uint8_t>(text.size() >> (8 * i));
  bool ok = std::fwrite(len_bytes, 1, 8, f) == 8 &&
            std::fwrite(text.data(), 1, text.size(), f) == text.size();
  std::vector<char> row;
  for (size_t k = 0; ok && k < order.size(); ++k) {
    const Tensor& src = tensors[order[k]].tensor;
    // One row at a time (or the whole tensor when it is not 2-D).
    const int64_t runs = src.ndim == 2 ? src.rows() : 1;
    const int64_t len = src.ndim == 2 ? src.cols() : src.numel();
    Tensor row_src = src.ndim == 2 ? src.Rows(0, runs > 0 ? 1 : 0) : src;
    Tensor row_dst = row_src;
    row_dst.dtype = out_dtype(order[k]);
    row.resize(len * DTypeSize(row_dst.dtype));
    row_dst.data = row.data();
    for (int64_t r = 0; ok && r < runs && len > 0; ++r) {
      row_src.data = const_cast<char*>(RowPtr(src, r));
      CopyTensor(row_src, row_dst);
      ok = std::fwrite(row.data(), 1, row.size(), f) == row.size();
    }
  }
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    return absl::InternalError(absl::StrCat("error writing ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace gqa
