#include "client/loadgen/benchmark.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "client/generation_client.h"
#include "client/loadgen/arrivals.h"
#include "client/loadgen/openai_driver.h"
#include "client/loadgen/progress_bar.h"
#include "client/loadgen/report_table.h"
#include "client/loadgen/result_json.h"
#include "client/loadgen/stream_driver.h"
#include "client/loadgen/workload.h"

namespace gqa::loadgen {
namespace {

// Arrivals draw from their own stream, so every rate of a sweep gets the
// same prompts and lengths (drawn from `seed` itself).
constexpr uint64_t kArrivalStream = 0x9E3779B97F4A7C15ull;

absl::Status FromGrpc(const grpc::Status& s, const std::string& context) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(context, ": ", StatusText(s)));
}

absl::StatusOr<std::vector<WorkItem>> BuildWorkload(const BenchOptions& o,
                                                    const v1::ModelInfo& info) {
  WorkloadOptions w;
  w.num_prompts = o.turns > 1 && o.num_conversations > 0 ? o.num_conversations : o.num_prompts;
  w.shared_prefix_len = o.shared_prefix_len;
  w.turns = o.turns;
  w.input = o.input;
  w.output = o.output;
  w.seed = o.seed;
  w.temperature = o.temperature;
  w.ignore_eos = o.ignore_eos;
  if (o.dataset == "jsonl") {
    absl::StatusOr<std::vector<DatasetEntry>> entries = LoadJsonlDataset(o.dataset_path);
    if (!entries.ok()) return entries.status();
    return BuildDatasetWorkload(w, *entries, o.dataset_path, info);
  }
  return BuildRandomWorkload(w, info);
}

}  // namespace

absl::StatusOr<BenchResult> RunBenchmark(const BenchOptions& options, std::ostream& err,
                                         bool err_is_tty) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeChannel(options.server, options.security);
  if (!channel.ok()) return channel.status();
  BenchResult result;
  GenerationClient client(*channel);
  if (grpc::Status s = client.GetModelInfo(&result.model_info, options.connect_timeout_s);
      !s.ok()) {
    return FromGrpc(s, "cannot get the model info from gqa-server at " + options.server);
  }
  absl::StatusOr<std::vector<WorkItem>> items = BuildWorkload(options, result.model_info);
  if (!items.ok()) return items.status();

  DriverOptions driver;
  driver.max_concurrency = options.max_concurrency;
  driver.request_timeout_s = options.request_timeout_s;
  OpenAiTarget openai{options.openai_url, ""};
  if (options.backend == "openai") {
    absl::StatusOr<std::string> model =
        FetchOpenAiModelId(options.openai_url, options.connect_timeout_s);
    if (!model.ok()) return model.status();
    openai.model = *std::move(model);
  }
  for (double rate : options.request_rates) {
    // Multi-turn chat: conversations arrive; their later turns follow.
    AssignArrivals(
        ArrivalTimes(NumArrivals(*items), rate, options.burstiness, options.seed ^ kArrivalStream),
        &*items);
    ProgressBar bar(err, err_is_tty, static_cast<int>(items->size()),
                    options.sweep ? "rate " + RateName(rate) : "");
    ProgressFn progress = nullptr;
    if (options.progress) {
      progress = [&bar](int completed, int failed, double elapsed_s) {
        bar.Update(completed, failed, elapsed_s);
      };
    }
    DriverResult run;
    if (options.backend == "openai") {
      absl::StatusOr<DriverResult> r = RunOpenAiStreams(openai, *items, driver, progress);
      if (!r.ok()) return r.status();
      run = *std::move(r);
    } else {
      run = RunStreams(*channel, *items, driver, progress);
    }
    RunResult r;
    r.request_rate = rate;
    r.metrics =
        ComputeMetrics(run.records, run.duration_s, run.max_concurrency_observed, options.slo);
    if (options.progress) bar.Finish(r.metrics.completed, r.metrics.failed, run.duration_s);
    r.records = std::move(run.records);
    result.runs.push_back(std::move(r));
  }
  return result;
}

absl::Status WriteBenchOutputs(const BenchOptions& options, const BenchResult& result,
                               std::ostream& out) {
  for (const RunResult& run : result.runs) PrintRunTable(run, options.max_concurrency, out);
  if (result.runs.size() > 1) PrintSweepTable(result, out);
  if (!options.result_json.empty()) {
    absl::Status s = WriteJsonFile(options.result_json, BenchResultToJson(options, result));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

int RunBenchCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                    bool err_is_tty) {
  absl::StatusOr<BenchOptions> options = ParseBenchArgs(argc, argv);
  if (!options.ok()) {
    err << "gqa-bench: " << options.status().message() << "\n";
    return 2;
  }
  if (options->help) {
    out << options->help_text;
    return 0;
  }
  absl::StatusOr<BenchResult> result = RunBenchmark(*options, err, err_is_tty);
  if (!result.ok()) {
    err << "gqa-bench: " << result.status().message() << "\n";
    return 1;
  }
  if (absl::Status s = WriteBenchOutputs(*options, *result, out); !s.ok()) {
    err << "gqa-bench: " << s.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace gqa::loadgen
