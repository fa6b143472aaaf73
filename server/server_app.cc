#include "server/server_app.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include <cstdlib>
#include <iostream>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "server/reflection_descriptors.h"
#include "server/security/server_credentials.h"

namespace gqa {
namespace {

// "host:port", with IPv6 literals bracketed.
std::string JoinHostPort(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return v6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

// Feeds the metrics and, in tests, a second observer; a failed backend turns
// health NOT_SERVING, so orchestrators stop routing here and restart the pod.
class AppObserver final : public EngineObserver {
 public:
  AppObserver(ServingMetrics* metrics, HealthAndDrain* health, HttpFrontEnd* http,
              EngineObserver* extra)
      : metrics_observer_(metrics),
        metrics_(metrics),
        health_(health),
        http_(http),
        extra_(extra) {}
  void OnStep(const StepObservation& s) override {
    metrics_observer_.OnStep(s);
    if (extra_) extra_->OnStep(s);
  }
  void OnEngineState(const EngineStateObservation& s) override {
    metrics_observer_.OnEngineState(s);
    if (extra_) extra_->OnEngineState(s);
  }
  void OnRequestScheduled(double q) override {
    metrics_observer_.OnRequestScheduled(q);
    if (extra_) extra_->OnRequestScheduled(q);
  }
  void OnFirstToken(double t) override {
    metrics_observer_.OnFirstToken(t);
    if (extra_) extra_->OnFirstToken(t);
  }
  void OnInterTokenLatency(double t) override {
    metrics_observer_.OnInterTokenLatency(t);
    if (extra_) extra_->OnInterTokenLatency(t);
  }
  void OnRequestFinished(double e2e, int prompt, int generated, FinishReason r) override {
    metrics_observer_.OnRequestFinished(e2e, prompt, generated, r);
    if (extra_) extra_->OnRequestFinished(e2e, prompt, generated, r);
  }
  void OnEngineFailed(const absl::Status& status) override {
    std::cerr << "gqa-server: the backend failed, serving nothing more: " << status << "\n";
    metrics_->CountEngineFailure("backend_error");
    health_->MarkNotServing();
    if (http_) http_->MarkFailed();
    if (extra_) extra_->OnEngineFailed(status);
  }

 private:
  MetricsObserver metrics_observer_;
  ServingMetrics* const metrics_;
  HealthAndDrain* const health_;
  HttpFrontEnd* const http_;
  EngineObserver* const extra_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServerApp>> ServerApp::Start(const ServerOptions& options,
                                                            std::ostream& log) {
  std::unique_ptr<ServerApp> app(new ServerApp());
  app->options_ = options;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  RegisterReflectionDescriptors();
  grpc::ServerBuilder builder;
  const std::string address = JoinHostPort(options.host, options.port);
  GQA_RETURN_IF_ERROR(
      ConfigureListeningPort(options.security, address, &builder, &app->port_));
  if (!options.security.api_key_file.empty()) {
    GQA_ASSIGN_OR_RETURN(app->api_keys_, ApiKeyStore::Open(options.security.api_key_file,
                                                           {.log = &std::cerr}));
    ApiKeyStore::ReloadOnSighup();
    app->authenticated_service_ =
        std::make_unique<AuthenticatedService>(&app->service_, app->api_keys_.get());
    builder.RegisterService(app->authenticated_service_.get());
  } else {
    builder.RegisterService(&app->service_);
  }
  app->server_ = builder.BuildAndStart();
  if (!app->server_ || app->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", address, " (address in use, or not an address of this host)"));
  }
  app->health_ = std::make_unique<HealthAndDrain>(app->server_.get());
  log << "gqa-server: gRPC listening on " << JoinHostPort(options.host, app->port_)
      << " (gqa.v1.Generation, grpc.health.v1.Health, reflection); health NOT_SERVING until "
         "the model is loaded\n";
  const TlsServerOptions& tls = options.security.tls;
  log << "gqa-server: "
      << (tls.enabled() ? (tls.client_ca_file.empty() ? "TLS" : "mutual TLS (client certificates "
                                                                 "required)")
                        : "plaintext (no --tls-cert)")
      << "; "
      << (app->api_keys_ ? absl::StrCat("API keys required (", app->api_keys_->num_keys(),
                                        " keys; SIGHUP or a change of the file reloads them)")
                         : std::string("no API key required (no --api-key-file)"))
      << "\n";
  if (options.http_port >= 0) {
    HttpOptions http;
    http.host = options.http_host.empty() ? options.host : options.http_host;
    http.port = options.http_port;
    http.threads = options.http_threads > 0 ? options.http_threads : DefaultHttpThreads(options);
    http.api_keys = app->api_keys_.get();
    http.tls = options.security.tls;  // the gRPC port's files and policy: HTTPS
    GQA_ASSIGN_OR_RETURN(app->http_, HttpFrontEnd::Start(http));
    log << "gqa-server: " << (http.tls.enabled() ? "HTTPS" : "HTTP")
        << " (OpenAI API) listening on " << JoinHostPort(http.host, app->http_->port()) << " ("
        << http.threads << " threads); /health 503 until the model is loaded\n";
  }
  return app;
}

ServerApp::~ServerApp() {
  watchdog_.reset();  // before what its callback uses
  // A failed Start returns before health_ exists: nothing to drain then.
  if (!drained_ && health_) Drain(std::chrono::nanoseconds(0));
  if (engine_) engine_->Stop();
}

const std::string& ServerApp::MetricsHost() const {
  return options_.metrics_host.empty() ? options_.host : options_.metrics_host;
}

std::string ServerApp::address() const {
  const std::string& h = options_.host;
  const bool any = h.empty() || h == "0.0.0.0" || h == "::" || h == "[::]";
  return JoinHostPort(any ? "127.0.0.1" : h, port_);
}

absl::Status ServerApp::Serve(LoadedModel model, std::ostream& log,
                              EngineObserver* observer_for_tests) {
  model_ = std::move(model);
  EngineConfig engine_config = options_.engine;
  // main() resolved --backend before loading (tests may pass "auto").
  BackendSetupOptions backend_options = options_.backend;
  if (backend_options.backend == "auto") {
    GQA_ASSIGN_OR_RETURN(backend_options.backend, ResolveBackend("auto"));
  }
  const std::string& resolved = backend_options.backend;
  // On a GPU the KV pool is sized from --gpu-memory-utilization unless
  // --kv-cache-memory says otherwise (SetUpBackend plans when the budget is 0).
  if (resolved == "cuda" && !options_.kv_cache_memory_set) engine_config.kv_cache_bytes = 0;
  GQA_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend,
                       SetUpBackend(backend_options, model_.weights.config, &engine_config, log));
  if (hooks_.wrap_backend) backend = hooks_.wrap_backend(std::move(backend));
  const std::string backend_name(backend->name());
  const ModelConfig& mc = model_.weights.config;
  ModelInfoLabels labels;
  labels.model = mc.name;
  labels.backend = backend_name;
  labels.dtype = std::string(DTypeName(mc.dtype));
  labels.n_heads = mc.n_heads;
  labels.n_kv_heads = mc.n_kv_heads;
  labels.block_size = engine_config.block_size;
  metrics_ = std::make_unique<ServingMetrics>(labels);
  observer_ = std::make_unique<AppObserver>(metrics_.get(), health_.get(), http_.get(),
                                            observer_for_tests);
  GQA_ASSIGN_OR_RETURN(engine_, Engine::Create(model_.weights, std::move(backend), engine_config,
                                               options_.queue, observer_.get()));
  // The backend holds its own copy now; the host copy (for a GGUF, the
  // dequantized f32 weights: as large as the model) would only double the
  // resident memory. The config stays.
  ModelConfig config = std::move(model_.weights.config);
  model_.weights = ModelWeights();
  model_.weights.config = std::move(config);
  const EngineInfo& info = engine_->info();
  metrics_->SetMemoryBytes(static_cast<double>(info.weight_bytes),
                           static_cast<double>(info.kv_cache_bytes),
                           static_cast<double>(info.activation_bytes));
  engine_->Start();
  if (options_.step_timeout_seconds > 0) {
    watchdog_ = std::make_unique<StepWatchdog>(
        engine_.get(),
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(options_.step_timeout_seconds)),
        [this](std::chrono::nanoseconds ran_for, StepWatchdog& watchdog) {
          OnStepTimeout(ran_for, watchdog);
        });
  }

  context_ = std::make_unique<ServingContext>();
  context_->engine = engine_.get();
  context_->tokenizer = model_.tokenizer.get();
  context_->chat_template = model_.chat_template.get();
  context_->metrics = metrics_.get();
  context_->backend_name = backend_name;
  context_->description = model_.description;
  context_->prompt_limits = options_.security.prompt;

  if (options_.metrics_port >= 0) {
    GQA_ASSIGN_OR_RETURN(metrics_exposer_, MetricsExposer::Start(MetricsHost(), options_.metrics_port,
                                                                 *metrics_));
  }
  log << "gqa-server: KV cache " << info.num_kv_blocks << " blocks of " << info.config.block_size
      << " tokens = " << info.kv_capacity_tokens() << " tokens ("
      << info.kv_cache_bytes / (1024.0 * 1024.0) << " MiB of " << DTypeName(info.kv_cache_dtype)
      << ", " << backend_name << "); context " << info.config.max_model_len << ", max "
      << info.config.max_num_seqs << " sequences and " << info.config.max_num_batched_tokens
      << " tokens per step; prefix caching " << (info.config.enable_prefix_caching ? "on" : "off")
      << "\n";
  if (metrics_exposer_) {
    log << "gqa-server: metrics at http://" << JoinHostPort(MetricsHost(), metrics_exposer_->port())
        << "/metrics\n";
  }
  if (!model_.tokenizer) {
    log << "gqa-server: no tokenizer: clients must send prompt_token_ids (see --tokenizer)\n";
  }
  service_.SetServing(context_.get());
  if (http_) {
    http_metrics_ = std::make_unique<HttpMetrics>(*metrics_->registry());
    http_->SetServing(context_.get(), ServedModelName(options_, model_.weights.config.name), http_metrics_.get());
  }
  health_->MarkServing();
  log << "gqa-server: serving (health SERVING)\n" << std::flush;
  return absl::OkStatus();
}

void ServerApp::OnStepTimeout(std::chrono::nanoseconds ran_for, StepWatchdog& watchdog) {
  const double seconds = std::chrono::duration<double>(ran_for).count();
  const absl::Status why = absl::UnavailableError(
      absl::StrCat("an engine step ran ", seconds, " s, past --step-timeout-seconds ",
                   options_.step_timeout_seconds, " (a hung device)"));
  std::cerr << "gqa-server: " << why.message() << "; health NOT_SERVING, exiting with status "
            << kStepTimeoutExitCode << " in " << options_.step_timeout_exit_grace_seconds
            << " s for a supervisor to restart the server\n"
            << std::flush;
  metrics_->CountEngineFailure("step_timeout");
  engine_->MarkFailed(why);
  health_->MarkNotServing();
  if (http_) http_->MarkFailed();
  const auto grace = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options_.step_timeout_exit_grace_seconds));
  if (watchdog.WaitForStop(grace)) return;  // the app is going away anyway
  if (hooks_.exit_process) return hooks_.exit_process(kStepTimeoutExitCode);
  std::cout.flush();
  std::cerr.flush();
  std::_Exit(kStepTimeoutExitCode);
}

bool ServerApp::Drain(std::chrono::nanoseconds timeout) {
  drained_ = true;
  // HTTP stops accepting at once; its open requests finish with the engine's
  // (the engine drains, then the call tracker sees the last one end).
  if (http_) http_->BeginDrain();
  const bool finished =
      health_->Drain(engine_.get(), context_ ? &context_->calls : nullptr, timeout);
  if (http_) http_->Stop();
  return finished;
}

}  // namespace gqa
