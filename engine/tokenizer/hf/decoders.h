// Decoders of HF tokenizer.json ("decoder"): turn the token strings of a
// sequence into text. Supported: ByteLevel, Metaspace, ByteFallback, Fuse,
// Strip, Replace, Sequence.
//
// Bytes, not strings: HF decodes to a Rust String (U+FFFD for bad UTF-8). We
// keep what streaming needs (tokenizer.h: Decode returns bytes):
//   ByteLevel returns the raw bytes; HF's text is Utf8ReplaceInvalid of them.
//   ByteFallback replaces a run of <0xHH> tokens that is not well-formed with
//     one U+FFFD per byte, as HF, with two exceptions for decoding a window
//     of a longer sequence (streaming): a run at the very end that is
//     well-formed up to an incomplete last character stays raw bytes, so the
//     caller can wait for the rest of the character; and a run at the very
//     start passes its leading continuation bytes (the end of a character
//     cut by the window) through raw and is judged without them. Sequences
//     that Encode produces never start inside a character.
// Every step treats ill-formed bytes as opaque (they never match a pattern).
//
// Thread ownership: immutable after construction; DecodeChain is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace gqa::hf {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the token strings; the result's concatenation is the text.
  virtual void DecodeChain(std::vector<std::string>* tokens) const = 0;
};

absl::StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const nlohmann::json& json,
                                                         const std::string& where);

}  // namespace gqa::hf
