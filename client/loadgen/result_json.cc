#include "client/loadgen/result_json.h"

#include <cmath>
#include <fstream>

#include "client/loadgen/arrivals.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace gqa::loadgen {
namespace {

using Json = nlohmann::json;
using google::protobuf::FieldDescriptor;

Json RateJson(double rate) { return std::isinf(rate) ? Json("inf") : Json(rate); }

Json SummaryJson(const Summary& s) {
  return Json{{"count", s.count},   {"mean", s.mean}, {"std", s.std}, {"min", s.min},
              {"median", s.median}, {"p90", s.p90},   {"p99", s.p99}, {"max", s.max}};
}

Json LengthJson(const LengthSpec& l) {
  Json j{{"dist", LengthDistName(l.dist)}, {"mean", l.mean}};
  if (l.dist == LengthDist::kUniform) j["range_ratio"] = l.range_ratio;
  if (l.dist == LengthDist::kShareGpt) j["sigma"] = l.sigma;
  return j;
}

// One scalar field of `m` (repeated: element `index`) as JSON.
Json FieldValue(const google::protobuf::Message& m, const FieldDescriptor* f, int index) {
  const google::protobuf::Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case FieldDescriptor::CPPTYPE_INT64:
      return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case FieldDescriptor::CPPTYPE_UINT32:
      return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case FieldDescriptor::CPPTYPE_UINT64:
      return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
    case FieldDescriptor::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_ENUM:
      return rep ? r->GetRepeatedEnum(m, f, index)->name() : r->GetEnum(m, f)->name();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;  // ModelInfo has none
  }
  return nullptr;
}

Json RequestJson(const RequestRecord& r) {
  Json j{{"index", r.index},
         {"input_len", r.input_len},
         {"output_len", r.output_len},
         {"expected_output_len", r.expected_output_len},
         {"arrival_s", r.arrival_s},
         {"start_s", r.start_s},
         {"end_s", r.end_s},
         {"status", r.status_name},
         {"cached_prompt_tokens", r.cached_prompt_tokens}};
  if (r.conversation >= 0) {
    j["conversation"] = r.conversation;
    j["turn"] = r.turn;
  }
  if (!r.error.empty()) j["error"] = r.error;
  if (r.has_tokens()) {
    j["ttft_ms"] = TtftSeconds(r) * 1e3;
    j["tpot_ms"] = TpotSeconds(r) * 1e3;
  } else {
    j["ttft_ms"] = nullptr;
    j["tpot_ms"] = nullptr;
  }
  j["e2el_ms"] = E2eSeconds(r) * 1e3;
  Json itl = Json::array();
  for (double gap : ItlSeconds(r)) itl.push_back(gap * 1e3);
  j["itl_ms"] = std::move(itl);
  return j;
}

}  // namespace

Json ConfigToJson(const BenchOptions& o) {
  Json rates = Json::array();
  for (double rate : o.request_rates) rates.push_back(RateJson(rate));
  Json j{
      {"server", o.server},
      {"num_prompts", o.num_prompts},
      {"request_rates", std::move(rates)},
      {"sweep", o.sweep},
      {"burstiness", o.burstiness},
      {"max_concurrency", o.max_concurrency > 0 ? Json(o.max_concurrency) : Json(nullptr)},
      {"seed", o.seed},
      {"dataset", o.dataset},
      {"input_len", LengthJson(o.input)},
      {"output_len", LengthJson(o.output)},
      {"ignore_eos", o.ignore_eos},
      {"temperature", o.temperature},
      {"request_timeout_s", o.request_timeout_s},
      {"shared_prefix_len", o.shared_prefix_len},
      {"turns", o.turns},
      {"num_conversations", o.num_conversations > 0 ? Json(o.num_conversations) : Json(nullptr)}};
  if (!o.dataset_path.empty()) j["dataset_path"] = o.dataset_path;
  j["backend"] = o.backend;
  if (o.backend == "openai") j["openai_url"] = o.openai_url;
  Json slo = Json::object();
  if (o.slo.ttft_ms > 0) slo["ttft_ms"] = o.slo.ttft_ms;
  if (o.slo.tpot_ms > 0) slo["tpot_ms"] = o.slo.tpot_ms;
  if (o.slo.e2el_ms > 0) slo["e2el_ms"] = o.slo.e2el_ms;
  j["slo"] = std::move(slo);
  return j;
}

Json ModelInfoToJson(const v1::ModelInfo& info) {
  Json j = Json::object();
  const google::protobuf::Descriptor* d = info.GetDescriptor();
  const google::protobuf::Reflection* r = info.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) {
      Json values = Json::array();
      for (int k = 0; k < r->FieldSize(info, f); ++k) values.push_back(FieldValue(info, f, k));
      j[f->name()] = std::move(values);
    } else {
      j[f->name()] = FieldValue(info, f, 0);
    }
  }
  return j;
}

Json RunToJson(const RunResult& run) {
  const BenchmarkMetrics& m = run.metrics;
  Json requests = Json::array();
  for (const RequestRecord& r : run.records) requests.push_back(RequestJson(r));
  Json turns = Json::array();
  for (const TurnMetrics& t : m.turns) {
    turns.push_back(Json{{"turn", t.turn + 1},
                         {"completed", t.completed},
                         {"input_tokens", t.input_tokens},
                         {"cached_prompt_tokens", t.cached_prompt_tokens},
                         {"ttft_ms", SummaryJson(t.ttft_ms)}});
  }
  return Json{{"request_rate", RateJson(run.request_rate)},
              {"num_requests", m.num_requests},
              {"completed", m.completed},
              {"failed", m.failed},
              {"failures_by_code", m.failures_by_code},
              {"duration_s", m.duration_s},
              {"total_input_tokens", m.total_input_tokens},
              {"total_output_tokens", m.total_output_tokens},
              {"total_cached_prompt_tokens", m.total_cached_prompt_tokens},
              {"request_throughput", m.request_throughput},
              {"input_throughput", m.input_throughput},
              {"output_throughput", m.output_throughput},
              {"total_token_throughput", m.total_token_throughput},
              {"goodput", m.has_goodput ? Json(m.goodput) : Json(nullptr)},
              {"good_requests", m.has_goodput ? Json(m.good_requests) : Json(nullptr)},
              {"max_concurrency_observed", m.max_concurrency_observed},
              {"peak_output_throughput", m.peak_output_throughput},
              {"output_tokens_per_s", m.output_tokens_per_s},
              {"ttft_ms", SummaryJson(m.ttft_ms)},
              {"tpot_ms", SummaryJson(m.tpot_ms)},
              {"itl_ms", SummaryJson(m.itl_ms)},
              {"e2el_ms", SummaryJson(m.e2el_ms)},
              {"turns", std::move(turns)},
              {"requests", std::move(requests)}};
}

Json BenchResultToJson(const BenchOptions& options, const BenchResult& result) {
  Json runs = Json::array();
  for (const RunResult& run : result.runs) runs.push_back(RunToJson(run));
  return Json{{"tool", "gqa-bench"},
              {"config", ConfigToJson(options)},
              {"model_info", ModelInfoToJson(result.model_info)},
              {"runs", std::move(runs)}};
}

absl::Status WriteJsonFile(const std::string& path, const Json& json) {
  std::ofstream out(path);
  if (!out) return absl::UnavailableError("cannot write " + path);
  out << json.dump(2) << "\n";
  out.close();
  if (!out) return absl::DataLossError("error writing " + path);
  return absl::OkStatus();
}

}  // namespace gqa::loadgen
