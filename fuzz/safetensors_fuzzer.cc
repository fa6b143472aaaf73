// safetensors: the 8-byte header length, the JSON header and the tensor
// table (dtype, shape, data_offsets) against the data section. Every view a
// parsed file hands out is read in full, so ASan sees any out-of-bounds one.
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/common/dtype.h"
#include "engine/model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = gqa::SafetensorsFile::FromBytes(std::span<const uint8_t>(data, size), "fuzz");
  if (!file.ok()) return 0;
  uint8_t sum = 0;
  for (const std::string& name : (*file)->Names()) {
    absl::StatusOr<gqa::Tensor> t = (*file)->Get(name);
    if (!t.ok()) __builtin_trap();  // Names() promised it
    const auto* bytes = static_cast<const uint8_t*>(t->data);
    const size_t nbytes = static_cast<size_t>(t->numel()) * gqa::DTypeSize(t->dtype);
    for (size_t i = 0; i < nbytes; ++i) sum += bytes[i];
  }
  (void)(*file)->Get("absent");
  volatile uint8_t sink = sum;
  (void)sink;
  return 0;
}
