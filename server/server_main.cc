// gqa-server: serves a model over gRPC. See server_options.cc (--help) for the
// flags and server_app.h for what runs. SIGTERM/SIGINT start a graceful drain;
// the process exits 0 when it is done.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <iostream>

#include "server/server_app.h"

namespace {

// Self-pipe: the handler only writes the signal number (async-signal-safe);
// main blocks reading it. A handler, not a blocked mask + sigwait, because
// libraries start threads before main (OpenBLAS, gRPC) that would otherwise
// take the signal with its default action.
int g_signal_pipe[2] = {-1, -1};

void OnDrainSignal(int signal) {
  const unsigned char s = static_cast<unsigned char>(signal);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &s, 1);
}

int WaitForDrainSignal() {
  unsigned char s = 0;
  while (read(g_signal_pipe[0], &s, 1) != 1) {
    if (errno != EINTR) return SIGTERM;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<gqa::ServerOptions> options = gqa::ParseServerArgs(argc, argv);
  if (!options.ok()) {
    std::cerr << "gqa-server: " << options.status().message() << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << options->help_text;
    return 0;
  }
  if (pipe(g_signal_pipe) != 0) {
    std::cerr << "gqa-server: cannot create the signal pipe\n";
    return 1;
  }
  struct sigaction action = {};
  action.sa_handler = OnDrainSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  // Resolved before loading: dummy weights are made in the backend's dtype.
  absl::StatusOr<std::string> backend = gqa::ResolveBackend(options->backend.backend);
  if (!backend.ok()) {
    std::cerr << "gqa-server: " << backend.status().message() << "\n";
    return 1;
  }
  options->backend.backend = *backend;
  options->model.dtype = gqa::ResolveDType(options->backend.dtype, *backend);

  absl::StatusOr<std::unique_ptr<gqa::ServerApp>> app = gqa::ServerApp::Start(*options, std::cerr);
  if (!app.ok()) {
    std::cerr << "gqa-server: " << app.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<gqa::LoadedModel> model = gqa::SetUpModel(options->model, std::cerr);
  if (!model.ok()) {
    std::cerr << "gqa-server: cannot load the model: " << model.status().message() << "\n";
    return 1;
  }
  if (absl::Status s = (*app)->Serve(*std::move(model), std::cerr); !s.ok()) {
    std::cerr << "gqa-server: " << s.message() << "\n";
    return 1;
  }

  // A signal during loading waits in the pipe: the drain then starts at once.
  const int signal = WaitForDrainSignal();
  std::cerr << "gqa-server: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": draining (health NOT_SERVING, new requests UNAVAILABLE, running ones get up to "
            << options->drain_timeout_seconds << " s)\n";
  const auto timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options->drain_timeout_seconds));
  const bool all_finished = (*app)->Drain(timeout);
  std::cerr << "gqa-server: drained"
            << (all_finished ? "; every request finished" : "; the drain timeout aborted the rest")
            << "\n";
  return 0;
}
