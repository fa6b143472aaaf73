// HF config.json: ParseHfConfig (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM) and, for a config it accepts, the derived sizes and the
// writer round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/common/dtype.h"
#include "engine/model/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<gqa::ModelConfig> c = gqa::ParseHfConfig(text, "fuzz/config.json");
  if (!c.ok()) return 0;
  if (c->Validate().ok()) {
    volatile size_t sink = c->NumParameters() + c->KvBytesPerToken(gqa::DType::kF16);
    (void)sink;
  }
  // What we write we must read back.
  absl::StatusOr<gqa::ModelConfig> again =
      gqa::ParseHfConfig(gqa::ToHfConfigJson(*c), "fuzz/round-trip.json");
  (void)again;
  return 0;
}
