#include "engine/model/hf_loader.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/model/rope_permute.h"
#include "engine/model/safetensors.h"
#include "engine/model/weight_names.h"
#include "nlohmann/json.hpp"

namespace gqa {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using FileMap = std::map<std::string, std::shared_ptr<const SafetensorsFile>>;

constexpr char kSingleFile[] = "model.safetensors";
constexpr char kIndexFile[] = "model.safetensors.index.json";

// Which file holds each tensor name, and the opened (validated) files.
struct TensorSources {
  std::map<std::string, std::string> file_of;  // tensor name -> shard file name
  FileMap files;                               // shard file name -> opened file
  std::string listing;                         // where file_of came from, for error messages
};

absl::StatusOr<TensorSources> OpenSingleFile(const fs::path& dir) {
  TensorSources src;
  src.listing = (dir / kSingleFile).string();
  GQA_ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(src.listing));
  for (const std::string& name : file->Names()) src.file_of[name] = kSingleFile;
  src.files[kSingleFile] = std::move(file);
  return src;
}

absl::StatusOr<TensorSources> OpenShards(const fs::path& dir) {
  TensorSources src;
  src.listing = (dir / kIndexFile).string();
  GQA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(src.listing));
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto map_it = j.is_object() ? j.find("weight_map") : j.end();
  if (j.is_discarded() || !j.is_object() || map_it == j.end() || !map_it->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(src.listing, ": not a JSON object with a 'weight_map' object"));
  }
  for (const auto& [name, shard] : map_it->items()) {
    if (!shard.is_string() || shard.get<std::string>().empty() ||
        absl::StrContains(shard.get<std::string>(), "/")) {
      return absl::InvalidArgumentError(absl::StrCat(src.listing, ": weight_map entry for '", name,
                                                     "' is not a shard file name"));
    }
    src.file_of[name] = shard.get<std::string>();
  }
  for (const auto& [name, shard] : src.file_of) {
    if (src.files.count(shard)) continue;
    absl::StatusOr<std::shared_ptr<const SafetensorsFile>> file =
        SafetensorsFile::Open((dir / shard).string());
    if (!file.ok()) {
      return absl::Status(file.status().code(),
                          absl::StrCat("shard '", shard, "' listed in ", src.listing, ": ",
                                       std::string(file.status().message())));
    }
    src.files[shard] = *std::move(file);
  }
  return src;
}

// Looks up `name` wherever the listing says it is and checks its shape.
absl::StatusOr<Tensor> FindTensor(const TensorSources& src, const fs::path& dir,
                                  const std::string& name, const std::vector<int64_t>& shape) {
  auto it = src.file_of.find(name);
  if (it == src.file_of.end()) {
    return absl::NotFoundError(absl::StrCat(src.listing, ": missing tensor '", name, "'"));
  }
  const SafetensorsFile& file = *src.files.at(it->second);
  if (!file.Contains(name)) {
    return absl::NotFoundError(
        absl::StrCat(file.path(), ": missing tensor '", name, "' (listed in ", src.listing, ")"));
  }
  GQA_ASSIGN_OR_RETURN(Tensor t, file.Get(name));
  if (ShapeOf(t) != shape) {
    return absl::InvalidArgumentError(absl::StrCat(file.path(), ": tensor '", name, "' has shape ",
                                                   ShapeToString(ShapeOf(t)), ", expected ",
                                                   ShapeToString(shape), " from config.json"));
  }
  return t;
}

bool IsIgnorable(const std::string& name) {
  // Older conversions stored the RoPE inverse frequencies; we recompute them.
  return absl::EndsWith(name, ".rotary_emb.inv_freq");
}

}  // namespace

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("error reading ", path));
  return ss.str();
}

absl::StatusOr<ModelWeights> LoadHfModel(std::string_view dir_sv) {
  const fs::path dir{std::string(dir_sv)};
  const std::string config_path = (dir / "config.json").string();
  GQA_ASSIGN_OR_RETURN(std::string config_text, ReadTextFile(config_path));
  ModelWeights w;
  GQA_ASSIGN_OR_RETURN(w.config, ParseHfConfig(config_text, config_path));

  std::error_code ec;
  TensorSources src;
  if (fs::exists(dir / kSingleFile, ec)) {  // first, as transformers does
    GQA_ASSIGN_OR_RETURN(src, OpenSingleFile(dir));
  } else if (fs::exists(dir / kIndexFile, ec)) {
    GQA_ASSIGN_OR_RETURN(src, OpenShards(dir));
  } else {
    return absl::NotFoundError(
        absl::StrCat(dir.string(), ": neither ", kSingleFile, " nor ", kIndexFile, " found"));
  }

  std::set<std::string> expected;
  for (const WeightSlot& slot : HfWeightSlots(&w)) {
    GQA_ASSIGN_OR_RETURN(*slot.tensor, FindTensor(src, dir, slot.name, slot.shape));
    expected.insert(slot.name);
  }
  if (w.config.tie_word_embeddings) {
    w.lm_head = w.embed;
    // Some tied checkpoints store lm_head anyway; HF ties over it, so do we.
    if (src.file_of.count("lm_head.weight")) {
      const int64_t v = w.config.vocab_size, d = w.config.dim;
      GQA_RETURN_IF_ERROR(FindTensor(src, dir, "lm_head.weight", {v, d}).status());
      expected.insert("lm_head.weight");
    }
  }
  for (const auto& [name, shard] : src.file_of) {
    if (expected.count(name) || IsIgnorable(name)) continue;
    return absl::InvalidArgumentError(
        absl::StrCat(src.files.at(shard)->path(), ": unexpected tensor '", name,
                     "' (not part of a ", w.config.name, " model with this config.json)"));
  }
  for (auto& [shard, file] : src.files) w.storage.push_back(file);
  return w;
}

absl::Status SaveHfModel(const ModelWeights& weights, std::string_view dir_sv, DType dtype) {
  const fs::path dir{std::string(dir_sv)};
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  GQA_RETURN_IF_ERROR(CheckWeightShapes(weights));
  fs::remove(dir / kIndexFile, ec);  // no stale index beside the new file
  GQA_ASSIGN_OR_RETURN(ModelWeights halves, WithRopeStyle(weights, RopeStyle::kHalves));
  halves.config.dtype = dtype;

  const std::string config_path = (dir / "config.json").string();
  std::ofstream out(config_path, std::ios::binary | std::ios::trunc);
  out << ToHfConfigJson(halves.config);
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("error writing ", config_path));
  return WriteSafetensors((dir / kSingleFile).string(), HfNamedTensors(halves), dtype);
}

}  // namespace gqa
