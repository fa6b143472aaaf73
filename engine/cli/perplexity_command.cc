#include "engine/cli/perplexity_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/cli/perplexity_eval.h"
#include "engine/common/status_macros.h"
#include "engine/gguf/gguf_file.h"
#include "engine/runner/backend_flags.h"
#include "engine/runner/model_setup.h"
#include "engine/tokenizer/gguf/gguf_tokenizer.h"
#include "flags/flag_parser.h"
#include "nlohmann/json.hpp"

namespace gqa {
namespace {

constexpr char kUsage[] =
    "usage: gqa-perplexity [--model PATH] [--tokenizer PATH] --file TEXT [--context N]\n"
    "                      [--stride S] [--chunks N] [--parallel P] [--batch-tokens B]\n"
    "                      [--threads N] [--backend auto|cpu|cuda] [--dtype D]\n"
    "                      [--kv-cache-dtype auto|f32|bf16] [--json] [--quiet]\n"
    "Perplexity of TEXT (one trailing newline dropped, as llama.cpp's -f does), chunked as\n"
    "llama.cpp's llama-perplexity (same numbers for the same model, text and --context):\n"
    "  --stride 0 (default): the tokens (BOS first if the tokenizer adds one) are cut into\n"
    "    non-overlapping chunks of --context tokens, each starting with BOS if the tokenizer\n"
    "    adds one; each chunk scores its second half (context - context/2 - 1 tokens).\n"
    "  --stride S (llama.cpp --ppl-stride): windows of --context tokens every S tokens,\n"
    "    each scoring its last S tokens, no BOS substitution.\n"
    "Chunks run through the serving engine, --parallel of them per step.";

// A bar like "[=========>          ] 12/40 chunks  ppl 13.0412  ETA 1m05s" on a
// terminal, redrawn in place; elsewhere one line per tenth of the chunks.
class ProgressBar {
 public:
  ProgressBar(std::ostream& err, int total, bool enabled)
      : err_(err), total_(total), enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1) {}

  void Update(int done, const PerplexityStats& so_far) {
    if (!enabled_ || total_ == 0) return;
    const int tenth = 10 * done / total_;
    if (!tty_ && (tenth == last_tenth_ || done == 0)) return;
    last_tenth_ = tenth;
    const double elapsed = Seconds();
    const double eta = done ? elapsed * (total_ - done) / done : 0;
    constexpr int kWidth = 30;
    const int filled = kWidth * done / total_;
    std::string bar(kWidth, ' ');
    for (int i = 0; i < filled; ++i) bar[i] = '=';
    if (filled < kWidth) bar[filled] = '>';
    err_ << (tty_ ? "\r" : "")
         << absl::StrFormat("[%s] %d/%d chunks  ppl %.4f  %.0fs, ETA %.0fs", bar, done, total_,
                            so_far.Perplexity(), elapsed, eta)
         << (tty_ ? "" : "\n") << std::flush;
  }
  void Finish() {
    if (enabled_ && tty_) err_ << "\n";
  }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::ostream& err_;
  int total_;
  bool enabled_, tty_;
  int last_tenth_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("--file: cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The BOS id when Encode(.., add_special_tokens) puts BOS first, else -1
// (llama_vocab_get_add_bos). An appended EOS is refused, as llama.cpp does.
absl::StatusOr<int> AddedBos(const Tokenizer& t) {
  const std::vector<int> with = t.Encode("a", true), without = t.Encode("a", false);
  if (with.size() == without.size()) return -1;
  if (with.size() == without.size() + 1 && with.front() == t.bos_id() && t.bos_id() >= 0) {
    return t.bos_id();
  }
  return absl::InvalidArgumentError(
      "the tokenizer adds tokens other than a leading BOS (an EOS?): perplexity would score "
      "them; llama-perplexity refuses such vocabularies too");
}

}  // namespace

absl::StatusOr<PerplexityOptions> ParsePerplexityArgs(int argc, const char* const* argv) {
  PerplexityOptions o;
  FlagParser p(kUsage);
  p.AddString("model", &o.model, "HF model directory, GGUF file or llama2.c .bin checkpoint");
  p.AddString("tokenizer", &o.tokenizer,
              "tokenizer.bin, tokenizer.json, HF directory or a GGUF file's vocabulary "
              "(default: the model's)");
  p.AddString("file", &o.file, "the text file to score");
  p.AddInt("context", &o.plan.context, "tokens per chunk (llama.cpp -c; default 512)");
  p.AddInt("stride", &o.plan.stride,
           "0 (default): non-overlapping chunks scoring their second half; S > 0: a window "
           "every S tokens scoring its last S (llama.cpp --ppl-stride)");
  p.AddInt("chunks", &o.plan.max_chunks, "score the first N chunks only (default 0: all)");
  p.AddInt("parallel", &o.parallel, "chunks in flight, i.e. sequences per engine step (default 4)");
  p.AddInt("batch-tokens", &o.batch_tokens, "tokens per engine step at most (default 2048)");
  p.AddBool("json", &o.json, "print the result as one JSON object");
  p.AddBool("quiet", &o.quiet, "no progress bar");
  AddBackendFlags(p, &o.backend);
  GQA_RETURN_IF_ERROR(p.Parse(argc, argv));
  o.help = p.help_requested();
  o.help_text = p.Help();
  if (o.help) return o;
  if (!p.positional().empty()) {
    return absl::InvalidArgumentError("unexpected argument '" + p.positional()[0] + "'");
  }
  if (o.file.empty()) return absl::InvalidArgumentError("--file is required");
  if (o.parallel < 1) return absl::InvalidArgumentError("--parallel must be >= 1");
  if (o.batch_tokens < 1) return absl::InvalidArgumentError("--batch-tokens must be >= 1");
  if (o.plan.context < 4) return absl::InvalidArgumentError("--context must be >= 4");
  if (o.plan.stride < 0 || o.plan.stride >= o.plan.context) {
    return absl::InvalidArgumentError("--stride must be in [0, --context)");
  }
  if (o.plan.max_chunks < 0) return absl::InvalidArgumentError("--chunks must be >= 0");
  GQA_RETURN_IF_ERROR(ValidateBackendFlags(o.backend));
  return o;
}

int RunPerplexity(const PerplexityOptions& o, std::ostream& out, std::ostream& err) {
  auto fail = [&err](const absl::Status& s) {
    err << "gqa-perplexity: " << s.message() << "\n";
    return 1;
  };
  absl::StatusOr<std::string> text = ReadFile(o.file);
  if (!text.ok()) return fail(text.status());
  // llama.cpp's -f drops one trailing newline; so do we, for the same tokens.
  if (!text->empty() && text->back() == '\n') text->pop_back();
  absl::StatusOr<std::string> backend_name = ResolveBackend(o.backend.backend);
  if (!backend_name.ok()) return fail(backend_name.status());
  // A GGUF's vocabulary serves a converted HF directory that has no tokenizer.json.
  const bool gguf_tokenizer = !o.tokenizer.empty() && gguf::IsGgufFile(o.tokenizer);
  ModelSetupOptions setup;
  setup.model = o.model;
  setup.tokenizer = gguf_tokenizer ? "" : o.tokenizer;
  setup.dtype = ResolveDType(o.backend.dtype, *backend_name);
  absl::StatusOr<LoadedModel> loaded = SetUpModel(setup, err);
  if (!loaded.ok()) return fail(loaded.status());
  std::unique_ptr<Tokenizer> tokenizer = std::move(loaded->tokenizer);
  if (gguf_tokenizer) {
    absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadGgufTokenizer(o.tokenizer);
    if (!t.ok()) return fail(t.status());
    tokenizer = *std::move(t);
  }
  if (!tokenizer) return fail(absl::InvalidArgumentError("no tokenizer: pass --tokenizer"));
  const ModelConfig& mc = loaded->weights.config;
  if (o.plan.context + 1 > mc.max_seq_len) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "--context ", o.plan.context, " + 1 exceeds the model's context of ", mc.max_seq_len)));
  }

  absl::StatusOr<int> bos = AddedBos(*tokenizer);
  if (!bos.ok()) return fail(bos.status());
  const std::vector<int> ids = tokenizer->Encode(*text, /*add_special_tokens=*/true);
  PerplexityPlanOptions plan = o.plan;
  plan.bos_id = *bos;
  absl::StatusOr<std::vector<PerplexityChunk>> chunks =
      PlanPerplexityChunks(std::vector<int32_t>(ids.begin(), ids.end()), plan);
  if (!chunks.ok()) return fail(chunks.status());
  const int per_chunk = chunks->front().num_scored();
  if (!o.quiet) {
    err << "gqa-perplexity: " << ids.size() << " tokens; " << chunks->size() << " chunks of "
        << plan.context << " scoring " << per_chunk << " tokens each"
        << (plan.bos_id >= 0 && plan.stride == 0 ? " (BOS first)" : "") << "\n";
  }

  EngineConfig config = PerplexityEngineConfig(plan.context, o.parallel, o.batch_tokens);
  BackendSetupOptions backend_options = o.backend;
  backend_options.backend = *backend_name;
  absl::StatusOr<std::unique_ptr<Backend>> backend =
      SetUpBackend(backend_options, mc, &config, err);
  if (!backend.ok()) return fail(backend.status());
  absl::StatusOr<std::unique_ptr<LlmEngine>> engine =
      LlmEngine::Create(loaded->weights, *std::move(backend), config);
  if (!engine.ok()) return fail(engine.status());

  ProgressBar bar(err, static_cast<int>(chunks->size()), !o.quiet);
  absl::StatusOr<std::vector<PerplexityStats>> per = ScoreChunks(
      **engine, *chunks,
      [&bar](int done, int64_t, const PerplexityStats& so_far) { bar.Update(done, so_far); });
  bar.Finish();
  if (!per.ok()) return fail(per.status());
  PerplexityStats total;
  for (const PerplexityStats& s : *per) total.Merge(s);
  const double seconds = bar.Seconds();
  const int64_t evaluated = static_cast<int64_t>(chunks->size()) * plan.context;

  if (o.json) {
    nlohmann::json j = {
        {"model", o.model.empty() ? "demo" : o.model},
        {"file", o.file},
        {"perplexity", total.Perplexity()},
        {"perplexity_error", total.PerplexityError()},
        {"mean_nll", total.MeanNll()},
        {"tokens_in_file", ids.size()},
        {"chunks", chunks->size()},
        {"context", plan.context},
        {"stride", plan.stride},
        {"bos_first", plan.bos_id >= 0 && plan.stride == 0},
        {"tokens_scored", total.count},
        {"tokens_evaluated", evaluated},
        {"seconds", seconds},
        {"tokens_per_second", seconds > 0 ? evaluated / seconds : 0.0},
        {"n_kv_heads", mc.n_kv_heads},
        {"n_heads", mc.n_heads},
    };
    out << j.dump() << "\n";
  } else {
    out << absl::StrFormat(
        "perplexity: %.4f +/- %.5f over %d tokens (%d chunks of %d, %d scored each), %.1f s, "
        "%.0f tokens/s\n",
        total.Perplexity(), total.PerplexityError(), total.count, chunks->size(), plan.context,
        per_chunk, seconds, seconds > 0 ? evaluated / seconds : 0.0);
  }
  return 0;
}

}  // namespace gqa
