#include "client/loadgen/bench_options.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/loadgen/arrivals.h"
#include "flags/flag_parser.h"

namespace gqa::loadgen {
namespace {

constexpr char kUsage[] =
    "usage: gqa-bench [--server HOST:PORT] [--num-prompts N] [--request-rate R | "
    "--request-rates R1,R2,...]\n"
    "                 [--dataset random|jsonl] [length, sampling, SLO and output flags]\n"
    "Serving benchmark for gqa-server over gRPC GenerateStream (like `vllm bench serve`):\n"
    "sends N requests with Poisson (or gamma) arrivals, reports throughput and TTFT / TPOT /\n"
    "ITL / end-to-end latency percentiles; --result-json FILE.json saves the details, and\n"
    "client/loadgen/plot_bench.py FILE.json -o FILE.svg draws latency CDFs and throughput.\n"
    "ShareGPT-like lengths: --input-len-dist sharegpt --input-len 161 --output-len-dist sharegpt\n"
    "--output-len 338 (log-normal stand-ins with those means; an approximation).\n"
    "Prefix caching: --shared-prefix-len 512 --input-len 64 (a shared system prompt);\n"
    "--turns 4 --num-conversations 8 (multi-turn chat: each turn resends the history).";

absl::Status Positive(const std::string& flag, double value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be > 0, got ", value));
}

absl::Status NonNegative(const std::string& flag, double value) {
  if (value >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be >= 0, got ", value));
}

}  // namespace

absl::StatusOr<BenchOptions> ParseBenchArgs(int argc, const char* const* argv) {
  BenchOptions o;
  std::string rate = "inf", rates, input_dist = "fixed", output_dist = "fixed";
  float burstiness = 1, range_ratio = 0, slo_ttft = 0, slo_tpot = 0, slo_e2el = 0;
  float request_timeout = 0, connect_timeout = 10;
  std::optional<uint64_t> seed;
  bool ignore_eos_switch = false, no_ignore_eos = false, no_progress = false;
  FlagParser p(kUsage);
  p.AddString("server", &o.server, "HOST:PORT of gqa-server (default localhost:50051)");
  AddChannelSecurityFlags(p, &o.security);
  p.AddString("backend", &o.backend,
              "grpc (default) or openai: streaming /v1/completions at --openai-url (the model "
              "info still over gRPC from --server)");
  p.AddString("openai-url", &o.openai_url,
              "--backend openai: the server's http://HOST:PORT (default http://localhost:8000)");
  p.AddInt("num-prompts", &o.num_prompts, "requests to send (default 100)");
  p.AddString("request-rate", &rate, "requests/s, or inf to send all at once (default inf)");
  p.AddString("request-rates", &rates,
              "sweep: comma-separated rates, e.g. 1,2,4,inf; one run each, same workload");
  p.AddFloat("burstiness", &burstiness,
             "gamma shape of the inter-arrival gaps: 1 = Poisson (default), <1 burstier");
  p.AddInt("max-concurrency", &o.max_concurrency, "requests in flight at most (default unbounded)");
  p.AddUint64("seed", &seed, "seed of the workload: lengths, prompt ids, arrivals (default 0)");
  p.AddString("dataset", &o.dataset, "random (default) or jsonl");
  p.AddString("dataset-path", &o.dataset_path,
              "jsonl: one {\"prompt\": ...} or {\"prompt_token_ids\": [...]} per line, "
              "optional \"output_len\"");
  p.AddInt("input-len", &o.input.mean, "random: prompt tokens (mean; default 128)");
  p.AddInt("output-len", &o.output.mean, "output tokens = max_tokens (mean; default 128)");
  p.AddInt("shared-prefix-len", &o.shared_prefix_len,
           "random: every prompt starts with the same N random tokens (default 0)");
  p.AddInt("turns", &o.turns,
           "random: turns per conversation (default 1); turn k sends the prompts and outputs of "
           "turns < k, then --input-len new tokens; sent when turn k-1 has ended");
  p.AddInt("num-conversations", &o.num_conversations,
           "with --turns > 1: conversations, arriving at --request-rate (default --num-prompts)");
  p.AddString("input-len-dist", &input_dist, "fixed (default), uniform or sharegpt");
  p.AddString("output-len-dist", &output_dist, "fixed (default), uniform or sharegpt");
  p.AddFloat("range-ratio", &range_ratio,
             "uniform: lengths in [len * (1 - r), len * (1 + r)], r in [0, 1) (default 0)");
  p.AddBool("ignore-eos", &ignore_eos_switch, "generate exactly the output length (the default)");
  p.AddBool("no-ignore-eos", &no_ignore_eos, "stop at the model's EOS token");
  p.AddFloat("temperature", &o.temperature, "sampling temperature (default 0 = greedy)");
  p.AddFloat("slo-ttft", &slo_ttft, "goodput SLO: time to first token, ms");
  p.AddFloat("slo-tpot", &slo_tpot, "goodput SLO: time per output token, ms");
  p.AddFloat("slo-e2el", &slo_e2el, "goodput SLO: end-to-end latency, ms");
  p.AddString("result-json", &o.result_json, "write config, summary and per-request records");
  p.AddFloat("request-timeout", &request_timeout, "per-request deadline, seconds (default none)");
  p.AddFloat("connect-timeout", &connect_timeout,
             "deadline of the first call (GetModelInfo), seconds (default 10)");
  p.AddBool("no-progress", &no_progress, "no progress bar on stderr");
  if (absl::Status s = p.Parse(argc, argv); !s.ok()) return s;
  o.help = p.help_requested();
  o.help_text = p.Help();
  if (o.help) return o;
  if (!p.positional().empty()) {
    return absl::InvalidArgumentError("unexpected argument '" + p.positional()[0] +
                                      "' (flags only; see --help)");
  }
  if (ignore_eos_switch && no_ignore_eos) {
    return absl::InvalidArgumentError("--ignore-eos and --no-ignore-eos contradict each other");
  }
  o.ignore_eos = !no_ignore_eos;
  o.progress = !no_progress;
  if (seed) o.seed = *seed;
  if (o.num_prompts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--num-prompts must be >= 1, got ", o.num_prompts));
  }
  if (o.max_concurrency < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-concurrency must be >= 0 (0 = unbounded), got ", o.max_concurrency));
  }
  if (!rates.empty()) {
    absl::StatusOr<std::vector<double>> parsed = ParseRequestRates("request-rates", rates);
    if (!parsed.ok()) return parsed.status();
    o.request_rates = *std::move(parsed);
    o.sweep = true;
  } else {
    absl::StatusOr<double> parsed = ParseRequestRate("request-rate", rate);
    if (!parsed.ok()) return parsed.status();
    o.request_rates = {*parsed};
  }
  if (absl::Status s = Positive("burstiness", burstiness); !s.ok()) return s;
  o.burstiness = burstiness;
  absl::StatusOr<LengthDist> in = ParseLengthDist("input-len-dist", input_dist);
  if (!in.ok()) return in.status();
  absl::StatusOr<LengthDist> out = ParseLengthDist("output-len-dist", output_dist);
  if (!out.ok()) return out.status();
  o.input.dist = *in;
  o.output.dist = *out;
  o.input.range_ratio = o.output.range_ratio = range_ratio;
  o.input.sigma = kShareGptInputSigma;
  o.output.sigma = kShareGptOutputSigma;
  if (absl::Status s = ValidateLengthSpec("input-len", o.input); !s.ok()) return s;
  if (absl::Status s = ValidateLengthSpec("output-len", o.output); !s.ok()) return s;
  if (o.dataset != "random" && o.dataset != "jsonl") {
    return absl::InvalidArgumentError("--dataset: '" + o.dataset + "' is not random or jsonl");
  }
  if (o.dataset == "jsonl" && o.dataset_path.empty()) {
    return absl::InvalidArgumentError("--dataset jsonl needs --dataset-path FILE");
  }
  if (o.dataset == "random" && !o.dataset_path.empty()) {
    return absl::InvalidArgumentError("--dataset-path is for --dataset jsonl");
  }
  if (absl::Status s = NonNegative("shared-prefix-len", o.shared_prefix_len); !s.ok()) return s;
  if (o.turns < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--turns must be >= 1, got ", o.turns));
  }
  if (o.num_conversations < 0 || (o.num_conversations > 0 && o.turns < 2)) {
    return absl::InvalidArgumentError(
        "--num-conversations must be >= 1 and goes with --turns >= 2 (else use --num-prompts)");
  }
  if (o.dataset != "random" && (o.shared_prefix_len > 0 || o.turns > 1)) {
    return absl::InvalidArgumentError("--shared-prefix-len and --turns are for --dataset random");
  }
  if (o.backend != "grpc" && o.backend != "openai") {
    return absl::InvalidArgumentError("--backend: '" + o.backend + "' is not grpc or openai");
  }
  if (o.backend == "openai" && o.turns > 1) {
    return absl::InvalidArgumentError("--turns > 1 (multi-turn chat) is for --backend grpc");
  }
  if (absl::Status s = NonNegative("temperature", o.temperature); !s.ok()) return s;
  for (auto [flag, value] :
       {std::pair{"slo-ttft", slo_ttft}, std::pair{"slo-tpot", slo_tpot},
        std::pair{"slo-e2el", slo_e2el}, std::pair{"request-timeout", request_timeout}}) {
    if (absl::Status s = NonNegative(flag, value); !s.ok()) return s;
  }
  if (absl::Status s = Positive("connect-timeout", connect_timeout); !s.ok()) return s;
  o.slo = SloConfig{slo_ttft, slo_tpot, slo_e2el};
  o.request_timeout_s = request_timeout;
  o.connect_timeout_s = connect_timeout;
  return o;
}

}  // namespace gqa::loadgen
