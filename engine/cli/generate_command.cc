#include "engine/cli/generate_command.h"

#include <chrono>
#include <filesystem>
#include <ostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/common/status_macros.h"
#include "engine/runner/backend_flags.h"
#include "engine/runner/llm_engine.h"
#include "engine/runner/model_setup.h"
#include "engine/tokenizer/incremental_decoder.h"
#include "flags/flag_parser.h"

namespace gqa {
namespace {

constexpr char kUsage[] =
    "usage: gqa-generate [--model PATH] [--tokenizer FILE] [--chat-template FILE]\n"
    "                    (--prompt TEXT | --prompt-ids 1,2,3 | --chat MESSAGE)\n"
    "                    [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S]\n"
    "                    [--ignore-eos] [--print-ids] [--load-format dummy --preset NAME]\n"
    "                    [--threads N] [--backend auto|cpu|cuda] [--dtype auto|f32|f16|bf16]\n"
    "                    [--kv-cache-dtype auto|f32|bf16]\n"
    "                    [--enable-prefix-caching | --no-enable-prefix-caching]\n"
    "Without --model, runs the built-in demo model (random weights, byte vocabulary).";

absl::StatusOr<std::vector<int32_t>> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int32_t id;
    if (!absl::SimpleAtoi(part, &id)) {
      return absl::InvalidArgumentError("--prompt-ids: '" + std::string(part) +
                                        "' is not an integer token id");
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

absl::StatusOr<GenerateOptions> ParseGenerateArgs(int argc, const char* const* argv) {
  GenerateOptions o;
  std::string prompt, prompt_ids, chat;
  FlagParser p(kUsage);
  p.AddString("model", &o.model, "HF model directory, GGUF file or llama2.c .bin checkpoint");
  p.AddString("tokenizer", &o.tokenizer, "llama2.c tokenizer.bin, tokenizer.json or HF directory");
  p.AddString("chat-template", &o.chat_template,
              "Jinja2 chat template file or HF directory (default: the model's own)");
  p.AddString("prompt", &prompt, "prompt text");
  p.AddString("prompt-ids", &prompt_ids, "prompt as comma-separated token ids");
  p.AddString("chat", &chat, "a user message, rendered with the model's chat template");
  p.AddInt("max-tokens", &o.max_tokens, "tokens to generate at most (default 128)");
  p.AddFloat("temperature", &o.sampling.temperature, "0 = greedy (default 1)");
  p.AddInt("top-k", &o.sampling.top_k, "keep the K most likely tokens (default off)");
  p.AddFloat("top-p", &o.sampling.top_p, "nucleus sampling mass (default 1 = off)");
  p.AddFloat("min-p", &o.sampling.min_p, "drop tokens below min_p * p_max (default 0 = off)");
  p.AddFloat("repetition-penalty", &o.sampling.repetition_penalty, "default 1 = off");
  p.AddFloat("presence-penalty", &o.sampling.presence_penalty, "default 0 = off");
  p.AddFloat("frequency-penalty", &o.sampling.frequency_penalty, "default 0 = off");
  p.AddUint64("seed", &o.sampling.seed, "random seed of the sampler (reproducible output)");
  p.AddBool("ignore-eos", &o.ignore_eos, "keep generating past end-of-sequence");
  p.AddBool("print-ids", &o.print_ids, "print generated token ids instead of text");
  p.AddString("load-format", &o.load_format, "auto (default) or dummy (random weights)");
  p.AddString("preset", &o.preset, "dummy weights' shape: " + PresetList());
  p.AddOnOff("enable-prefix-caching", &o.enable_prefix_caching,
             "reuse the KV blocks of shared prompt prefixes (the default)",
             "compute every prompt token (the outputs are the same)");
  AddBackendFlags(p, &o.backend);
  GQA_RETURN_IF_ERROR(p.Parse(argc, argv));
  o.help = p.help_requested();
  o.help_text = p.Help();
  if (!p.positional().empty()) {
    return absl::InvalidArgumentError("unexpected argument '" + p.positional()[0] + "'");
  }
  if (!prompt.empty()) o.prompt = prompt;
  if (!prompt_ids.empty()) o.prompt_ids = prompt_ids;
  if (!chat.empty()) o.chat = chat;
  if (o.prompt.has_value() + o.prompt_ids.has_value() + o.chat.has_value() > 1) {
    return absl::InvalidArgumentError("give one of --prompt, --prompt-ids and --chat");
  }
  if (o.max_tokens < 1) return absl::InvalidArgumentError("--max-tokens must be >= 1");
  GQA_RETURN_IF_ERROR(ValidateBackendFlags(o.backend));
  return o;
}

int RunGenerate(const GenerateOptions& o, std::ostream& out, std::ostream& err) {
  auto fail = [&err](const absl::Status& s) {
    err << "gqa-generate: " << s.message() << "\n";
    return 1;
  };
  // The backend is resolved first: dummy weights are made in its dtype.
  absl::StatusOr<std::string> backend_name = ResolveBackend(o.backend.backend);
  if (!backend_name.ok()) return fail(backend_name.status());
  const std::string dtype = ResolveDType(o.backend.dtype, *backend_name);
  ModelSetupOptions setup{o.model, o.tokenizer,   o.load_format,  o.preset,
                          dtype,   o.weight_seed, o.chat_template};
  absl::StatusOr<LoadedModel> loaded = SetUpModel(setup, err);
  if (!loaded.ok()) return fail(loaded.status());
  const Tokenizer* tokenizer = loaded->tokenizer.get();

  std::vector<int32_t> prompt;
  if (o.prompt_ids) {
    absl::StatusOr<std::vector<int32_t>> ids = ParseIds(*o.prompt_ids);
    if (!ids.ok()) return fail(ids.status());
    prompt = *std::move(ids);
  } else if (o.chat) {
    if (!loaded->chat_template || !tokenizer) {
      return fail(absl::InvalidArgumentError(
          "--chat: this model has no chat template (or tokenizer): pass --chat-template FILE"));
    }
    absl::StatusOr<std::string> text =
        loaded->chat_template->Render({ChatMessage{"user", *o.chat}}, true);
    if (!text.ok()) return fail(text.status());
    // The template wrote the special tokens: add none (no doubled BOS).
    const std::vector<int> ids = tokenizer->Encode(*text, /*add_special_tokens=*/false);
    prompt.assign(ids.begin(), ids.end());
  } else {
    if (!tokenizer) {
      return fail(absl::InvalidArgumentError(
          "this model has no tokenizer: pass --tokenizer FILE, or --prompt-ids"));
    }
    const std::vector<int> ids = tokenizer->Encode(o.prompt.value_or(""));
    prompt.assign(ids.begin(), ids.end());
  }
  if (!o.print_ids && !tokenizer) {
    return fail(absl::InvalidArgumentError("no tokenizer to print text with: use --print-ids"));
  }

  EngineConfig config;
  config.max_num_seqs = 1;
  config.enable_prefix_caching = o.enable_prefix_caching;
  const ModelConfig& mc = loaded->weights.config;
  config.max_num_batched_tokens = std::min(mc.max_seq_len, 512);
  GenerationRequest request;
  request.request_id = "cli";
  request.prompt_token_ids = prompt;
  request.sampling = o.sampling;
  request.stopping.ignore_eos = o.ignore_eos;
  request.stopping.max_tokens = o.max_tokens;
  if (static_cast<int64_t>(prompt.size()) + o.max_tokens > mc.max_seq_len &&
      static_cast<int>(prompt.size()) < mc.max_seq_len) {
    request.stopping.max_tokens = mc.max_seq_len - static_cast<int>(prompt.size());
    err << "gqa-generate: --max-tokens lowered to " << *request.stopping.max_tokens
        << " to fit the context of " << mc.max_seq_len << " tokens\n";
  }
  if (tokenizer && !o.ignore_eos) {
    for (int id : tokenizer->eos_ids()) request.stopping.stop_token_ids.push_back(id);
  }

  // One sequence: a KV pool of one full context, never a GPU-wide plan.
  config.num_kv_blocks = (mc.max_seq_len + config.block_size - 1) / config.block_size;
  BackendSetupOptions backend_options = o.backend;
  backend_options.backend = *backend_name;
  absl::StatusOr<std::unique_ptr<Backend>> backend =
      SetUpBackend(backend_options, mc, &config, err);
  if (!backend.ok()) return fail(backend.status());
  absl::StatusOr<std::unique_ptr<LlmEngine>> engine =
      LlmEngine::Create(loaded->weights, *std::move(backend), config);
  if (!engine.ok()) return fail(engine.status());
  if (absl::Status s = (*engine)->AddRequest(request); !s.ok()) return fail(s);

  std::optional<IncrementalDecoder> decoder;
  if (!o.print_ids) decoder.emplace(*tokenizer, std::vector<int>(prompt.begin(), prompt.end()));
  std::vector<int32_t> generated;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  Clock::time_point first_token;
  while ((*engine)->HasUnfinished()) {
    for (const RequestOutput& r : (*engine)->Step()) {
      for (const TokenOutput& t : r.new_tokens) {
        if (generated.empty()) first_token = Clock::now();
        generated.push_back(t.token_id);
        if (decoder) out << decoder->Push(t.token_id) << std::flush;
      }
    }
  }
  const Clock::time_point end = Clock::now();
  if (decoder) {
    out << decoder->Flush() << "\n";
  } else {
    for (size_t i = 0; i < generated.size(); ++i) out << (i ? " " : "") << generated[i];
    out << "\n";
  }
  const double prefill_s = std::chrono::duration<double>(first_token - start).count();
  const double decode_s = std::chrono::duration<double>(end - first_token).count();
  err << "gqa-generate: " << prompt.size() << " prompt tokens in " << prefill_s << " s, "
      << generated.size() << " generated";
  if (generated.size() > 1) err << " at " << (generated.size() - 1) / decode_s << " tokens/s";
  err << "\n";
  return 0;
}

}  // namespace gqa
