#include "client/client_command.h"

#include <google/protobuf/text_format.h>

#include <climits>
#include <cmath>
#include <optional>
#include <ostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/health_check.h"
#include "flags/flag_parser.h"

namespace gqa {
namespace {

constexpr char kUsage[] =
    "usage: gqa-client [--server HOST:PORT] [--deadline SECONDS] COMMAND [flags]\n"
    "commands:\n"
    "  generate  (--prompt TEXT | --prompt-ids 1,2,3) [sampling and stopping flags]\n"
    "  stream    like generate; prints the text as it arrives\n"
    "  chat      [--system TEXT] [--message TEXT] a conversation through the model's chat\n"
    "            template: one reply to --message (or to stdin when piped), else an\n"
    "            interactive session when stdin is a terminal. Unless given, chat decodes\n"
    "            greedily (--temperature 0): small models answer best that way; the\n"
    "            server's defaults apply to the rest\n"
    "  tokenize  --prompt TEXT [--no-special-tokens]\n"
    "  info      what the server serves\n"
    "  health    [--service NAME] grpc.health.v1 check of the server (or of NAME, e.g.\n"
    "            gqa.v1.Generation): prints SERVING, NOT_SERVING or UNKNOWN and exits 0\n"
    "            only when SERVING, 1 otherwise (default deadline 5 s)\n"
    "  abort     ID... ends the server's live requests with these request ids (sent with\n"
    "            --request-id by any client): prints the ids it found, one a line\n"
    "  load      the server's load: requests running and waiting, KV blocks, prefix cache\n"
    "A secured server: --tls [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]\n"
    "[--tls-server-name NAME] [--api-key-file FILE (else $GQA_API_KEY)].\n"
    "--stop may be given several times. Exit codes: 0 OK, 1 the call failed, 2 bad usage.";

// chat's sampling default (usage text): greedy.
constexpr float kChatTemperature = 0;

// `health` without --deadline: a probe must never hang on a stuck server.
constexpr double kDefaultHealthDeadlineSeconds = 5;

absl::StatusOr<std::vector<int32_t>> ParseIds(const std::string& flag, const std::string& text) {
  std::vector<int32_t> ids;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int32_t id;
    if (!absl::SimpleAtoi(part, &id)) {
      return absl::InvalidArgumentError("--" + flag + ": '" + std::string(part) +
                                        "' is not an integer token id");
    }
    ids.push_back(id);
  }
  return ids;
}

// FlagParser binds one value per flag; --stop may repeat, so it is taken out first.
std::vector<const char*> TakeRepeated(int argc, const char* const* argv, const std::string& flag,
                                      std::vector<std::string>* values) {
  std::vector<const char*> rest;
  const std::string eq = "--" + flag + "=";
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--" + flag && i + 1 < argc) {
      values->push_back(argv[++i]);
    } else if (arg.rfind(eq, 0) == 0) {
      values->push_back(arg.substr(eq.size()));
    } else {
      rest.push_back(argv[i]);
    }
  }
  return rest;
}

void PrintSummary(const v1::GenerateResponse& last, std::ostream& err) {
  const v1::Usage& u = last.usage();
  err << absl::StrFormat(
      "[finish: %s; %d prompt + %d generated tokens; queue %.1f ms, first token %.1f ms, "
      "total %.1f ms; %d preemptions]\n",
      FinishReasonName(last.finish_reason()), u.prompt_tokens(), u.completion_tokens(),
      u.queue_seconds() * 1e3, u.time_to_first_token_seconds() * 1e3, u.e2e_seconds() * 1e3,
      u.num_preemptions());
}

void PrintLogprobs(const v1::GenerateResponse& r, std::ostream& err) {
  for (const v1::TokenLogprob& l : r.logprobs()) {
    err << absl::StrFormat("  token %d %s logprob %.4f", l.token_id(), l.token(), l.logprob());
    for (const v1::TopLogprob& t : l.top_logprobs()) {
      err << absl::StrFormat(" | %d %s %.4f", t.token_id(), t.token(), t.logprob());
    }
    err << "\n";
  }
}

int Fail(const grpc::Status& s, std::ostream& err) {
  err << "gqa-client: " << StatusText(s) << "\n";
  return 1;
}

}  // namespace

absl::StatusOr<ClientOptions> ParseClientArgs(int argc, const char* const* argv) {
  ClientOptions o;
  std::vector<std::string> stops;
  const std::vector<const char*> args = TakeRepeated(argc, argv, "stop", &stops);
  std::string prompt, prompt_ids, stop_token_ids, request_id;
  // NaN: not given (AddFloat only accepts finite values), so the server default applies.
  float temperature = NAN, top_p = NAN, min_p = NAN, repetition = NAN, presence = NAN,
        frequency = NAN;
  std::optional<uint64_t> seed;
  int top_k = INT_MIN, max_tokens = 0, min_tokens = 0, priority = 0, top_logprobs = 0;
  bool ignore_eos = false, include_stop = false, logprobs = false, prompt_logprobs = false;
  bool no_special = false;
  float deadline = 0;
  FlagParser p(kUsage);
  p.AddString("server", &o.server, "HOST:PORT of gqa-server (default localhost:50051)");
  AddChannelSecurityFlags(p, &o.security);
  p.AddFloat("deadline", &deadline, "seconds the call may take (default: no deadline)");
  p.AddString("prompt", &prompt, "prompt text (generate, stream, tokenize)");
  p.AddString("message", &o.chat.message, "chat: the user's message (one-shot)");
  p.AddString("system", &o.chat.system, "chat: a system message first");
  p.AddString("prompt-ids", &prompt_ids, "prompt as comma-separated token ids");
  p.AddString("request-id", &request_id, "echoed in the responses");
  p.AddInt("max-tokens", &max_tokens, "tokens to generate at most (default: as many as fit)");
  p.AddInt("min-tokens", &min_tokens, "no EOS / stop before this many tokens (default 0)");
  p.AddFloat("temperature", &temperature, "0 = greedy (default 1)");
  p.AddInt("top-k", &top_k, "keep the K most likely tokens (default off)");
  p.AddFloat("top-p", &top_p, "nucleus mass (default 1 = off)");
  p.AddFloat("min-p", &min_p, "drop tokens below min_p * p_max (default 0 = off)");
  p.AddFloat("repetition-penalty", &repetition, "default 1 = off");
  p.AddFloat("presence-penalty", &presence, "default 0 = off");
  p.AddFloat("frequency-penalty", &frequency, "default 0 = off");
  p.AddUint64("seed", &seed, "sampler seed (reproducible output)");
  p.AddString("stop-token-ids", &stop_token_ids, "comma-separated ids that end generation");
  p.AddBool("ignore-eos", &ignore_eos, "keep generating past EOS");
  p.AddBool("include-stop-str", &include_stop, "keep the matched stop string in the text");
  p.AddInt("priority", &priority, "lower runs first (default 0)");
  p.AddBool("logprobs", &logprobs, "print each generated token's logprob (stderr)");
  p.AddInt("top-logprobs", &top_logprobs, "also the N most likely tokens (0..20)");
  p.AddBool("prompt-logprobs", &prompt_logprobs, "ask for prompt logprobs");
  p.AddBool("print-ids", &o.print_ids, "print token ids instead of text");
  p.AddBool("no-special-tokens", &no_special, "tokenize: do not add BOS etc.");
  p.AddString("service", &o.health_service,
              "health: the service to check (default \"\": the whole server)");
  if (absl::Status s = p.Parse(static_cast<int>(args.size()), args.data()); !s.ok()) return s;
  o.help = p.help_requested();
  o.help_text = p.Help();
  if (o.help) return o;
  constexpr char kCommands[] = "generate, stream, chat, tokenize, info, health, abort, load";
  if (p.positional().empty()) {
    return absl::InvalidArgumentError(std::string("give one command: ") + kCommands);
  }
  o.command = p.positional()[0];
  if (o.command != "generate" && o.command != "stream" && o.command != "chat" &&
      o.command != "tokenize" && o.command != "info" && o.command != "health" &&
      o.command != "abort" && o.command != "load") {
    return absl::InvalidArgumentError("unknown command '" + o.command + "' (" + kCommands + ")");
  }
  if (o.command == "abort") {
    if (p.positional().size() < 2) {
      return absl::InvalidArgumentError("abort: give the request ids to abort");
    }
    for (size_t i = 1; i < p.positional().size(); ++i) {
      o.abort.add_request_ids(p.positional()[i]);
    }
  } else if (p.positional().size() != 1) {
    return absl::InvalidArgumentError("give one command (abort takes ids after it), not also '" +
                                      p.positional()[1] + "'");
  }
  o.deadline_seconds = deadline;

  o.tokenize.set_text(prompt);
  if (no_special) o.tokenize.set_add_special_tokens(false);

  v1::GenerateRequest& r = o.request;
  r.set_request_id(request_id);
  if (!prompt_ids.empty()) {
    absl::StatusOr<std::vector<int32_t>> ids = ParseIds("prompt-ids", prompt_ids);
    if (!ids.ok()) return ids.status();
    r.mutable_prompt_token_ids()->mutable_ids()->Add(ids->begin(), ids->end());
  } else {
    r.set_prompt(prompt);
  }
  v1::SamplingParams& s = *r.mutable_sampling();
  if (!std::isnan(temperature)) s.set_temperature(temperature);
  if (o.command == "chat" && std::isnan(temperature)) s.set_temperature(kChatTemperature);
  if (top_k != INT_MIN) s.set_top_k(top_k);
  if (!std::isnan(top_p)) s.set_top_p(top_p);
  if (!std::isnan(min_p)) s.set_min_p(min_p);
  if (!std::isnan(repetition)) s.set_repetition_penalty(repetition);
  if (!std::isnan(presence)) s.set_presence_penalty(presence);
  if (!std::isnan(frequency)) s.set_frequency_penalty(frequency);
  if (seed) s.set_seed(*seed);
  v1::StoppingCriteria& st = *r.mutable_stopping();
  if (max_tokens != 0) st.set_max_tokens(max_tokens);
  st.set_min_tokens(min_tokens);
  for (const std::string& stop : stops) st.add_stop(stop);
  if (!stop_token_ids.empty()) {
    absl::StatusOr<std::vector<int32_t>> ids = ParseIds("stop-token-ids", stop_token_ids);
    if (!ids.ok()) return ids.status();
    st.mutable_stop_token_ids()->Add(ids->begin(), ids->end());
  }
  st.set_ignore_eos(ignore_eos);
  st.set_include_stop_str_in_output(include_stop);
  r.set_priority(priority);
  r.set_top_logprobs(top_logprobs);
  r.set_logprobs(logprobs);
  r.set_prompt_logprobs(prompt_logprobs);
  return o;
}

int RunClientCommand(const ClientOptions& o, GenerationClient& client, std::istream& in,
                     std::ostream& out, std::ostream& err) {
  if (o.command == "chat") {
    return RunChat(o.chat, o.request, o.deadline_seconds, client, in, out, err);
  }
  if (o.command == "health") {
    const double deadline =
        o.deadline_seconds > 0 ? o.deadline_seconds : kDefaultHealthDeadlineSeconds;
    absl::StatusOr<HealthState> state = CheckHealth(client.channel(), o.health_service, deadline);
    if (!state.ok()) {
      err << "gqa-client: " << absl::StatusCodeToString(state.status().code()) << ": "
          << state.status().message() << "\n";
      return 1;
    }
    out << HealthStateName(*state) << "\n";
    return *state == HealthState::kServing ? 0 : 1;
  }
  if (o.command == "info") {
    v1::ModelInfo info;
    grpc::Status s = client.GetModelInfo(&info, o.deadline_seconds);
    if (!s.ok()) return Fail(s, err);
    out << info.DebugString();
    return 0;
  }
  if (o.command == "load") {
    v1::Load load;
    grpc::Status s = client.GetLoad(&load, o.deadline_seconds);
    if (!s.ok()) return Fail(s, err);
    // Every field, zeros too (DebugString leaves out proto3 defaults).
    const google::protobuf::Descriptor* d = load.GetDescriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      std::string value;
      google::protobuf::TextFormat::PrintFieldValueToString(load, d->field(i), -1, &value);
      out << d->field(i)->name() << ": " << value << "\n";
    }
    return 0;
  }
  if (o.command == "abort") {
    v1::AbortResponse response;
    grpc::Status s = client.Abort(o.abort, &response, o.deadline_seconds);
    if (!s.ok()) return Fail(s, err);
    for (const std::string& id : response.aborted_request_ids()) out << id << "\n";
    err << "[" << response.aborted_request_ids_size() << " of " << o.abort.request_ids_size()
        << " ids were live and are being aborted]\n";
    return 0;
  }
  if (o.command == "tokenize") {
    v1::TokenizeResponse response;
    grpc::Status s = client.Tokenize(o.tokenize, &response, o.deadline_seconds);
    if (!s.ok()) return Fail(s, err);
    for (int i = 0; i < response.token_ids_size(); ++i) {
      out << (i ? " " : "") << response.token_ids(i);
    }
    out << "\n";
    return 0;
  }
  auto print = [&](const v1::GenerateResponse& r) {
    if (o.print_ids) {
      for (int id : r.token_ids()) out << id << " ";
    } else {
      out << r.text();
    }
    out << std::flush;
    PrintLogprobs(r, err);
  };
  v1::GenerateResponse last;
  grpc::Status s;
  if (o.command == "stream") {
    s = client.GenerateStream(
        o.request,
        [&](const v1::GenerateResponse& r) {
          print(r);
          last = r;
        },
        o.deadline_seconds);
  } else {
    s = client.Generate(o.request, &last, o.deadline_seconds);
    if (s.ok()) print(last);
  }
  out << "\n";
  if (!s.ok()) return Fail(s, err);
  PrintSummary(last, err);
  return 0;
}

}  // namespace gqa
