// End to end with a real Prometheus server (Debian package `prometheus`):
// our exposer serves known observations, Prometheus scrapes it every second,
// and its query API must return exactly those values; with deploy/compose's
// alerting rules loaded, an error finish turns GqaRequestErrors pending.
// Skips without the `prometheus` binary ($GQA_PROMETHEUS_BIN overrides the
// PATH lookup). Loopback addresses only.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/metrics/metrics_exposer.h"
#include "server/metrics/serving_metrics.h"
#include "tests/server/metrics/exposition_test_util.h"
#include "tests/server/metrics/http_test_client.h"
#include "tests/support/test_paths.h"

extern char** environ;

namespace gqa {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::optional<std::string> FindPrometheus() {
  if (const char* bin = std::getenv("GQA_PROMETHEUS_BIN"); bin != nullptr && *bin != '\0') {
    return access(bin, X_OK) == 0 ? std::optional<std::string>(bin) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "", ':', absl::SkipEmpty())) {
    const std::string candidate = std::string(dir) + "/prometheus";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// A loopback port free right now (bind to 0, read it, close). Another process
// could take it before Prometheus binds; the caller retries then.
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

// The child Prometheus process; killed and reaped on destruction, also when
// an assertion fails first.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() {
    if (pid_ > 0 && Running()) kill(pid_, SIGKILL);
    if (pid_ > 0 && !reaped_) waitpid(pid_, nullptr, 0);
  }
  bool started() const { return pid_ > 0; }
  bool Running() {
    if (reaped_) return false;
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) reaped_ = true;
    return !reaped_;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// The "result" array of an instant query, or nullopt if not answered yet.
std::optional<nlohmann::json> Query(int prometheus_port, const std::string& promql) {
  auto r = testing::HttpRequest(prometheus_port, "GET", "/api/v1/query?query=" + UrlEncode(promql));
  if (!r.ok() || r->status != 200) return std::nullopt;
  nlohmann::json body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || body.value("status", "") != "success") return std::nullopt;
  return body["data"]["result"];
}

double SampleOf(const nlohmann::json& series) {
  return std::stod(series["value"][1].get<std::string>());
}

// deploy/compose's alerting and recording rules.
constexpr char kRulesFile[] = GQA_SOURCE_DIR "/deploy/compose/prometheus/rules/gqa-serve.rules.yml";

// The alert named `name` from /api/v1/alerts when it is pending or firing.
std::optional<nlohmann::json> PendingAlert(int prometheus_port, const std::string& name) {
  auto r = testing::HttpRequest(prometheus_port, "GET", "/api/v1/alerts");
  if (!r.ok() || r->status != 200) return std::nullopt;
  nlohmann::json body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || body.value("status", "") != "success") return std::nullopt;
  for (const nlohmann::json& alert : body["data"]["alerts"]) {
    if (alert["labels"].value("alertname", "") == name) return alert;
  }
  return std::nullopt;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PrometheusScrapeTest, RealPrometheusReadsExactValues) {
  const std::optional<std::string> prometheus = FindPrometheus();
  if (!prometheus) GTEST_SKIP() << "no prometheus binary (Debian package `prometheus`)";

  // A model name that needs every escape, plus non-ASCII.
  const std::string model_name = "tiny \"llama\"\\v2\ncaf\xC3\xA9";
  ServingMetrics metrics({model_name, "cpu", "fp32", 8, 2, 16});
  // finished: stop x3, length x2, eos x1; every e2e latency in (1, 2.5].
  for (const char* reason : {"stop", "stop", "stop", "length", "length", "eos"}) {
    metrics.ObserveRequestFinished(2.0, 10, 20, reason);
  }
  metrics.CountRejected("RESOURCE_EXHAUSTED");
  auto exposer = MetricsExposer::Start("127.0.0.1", 0, metrics);
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  // What a scrape holds: our samples and the exposer's own (their values move
  // with each scrape, their number does not).
  absl::StatusOr<testing::HttpResponse> served =
      testing::HttpRequest((*exposer)->port(), "GET", "/metrics");
  ASSERT_TRUE(served.ok()) << served.status();
  const size_t num_samples = testing::SampleLines(served->body).size();
  ASSERT_GT(num_samples, testing::SampleLines(metrics.Render()).size());

  gqa::testing::ScratchDir dir;
  const std::string config = dir.File("prometheus.yml");
  std::ofstream(config) << "global:\n"
                           "  scrape_interval: 1s\n"
                           "  scrape_timeout: 1s\n"
                           "  evaluation_interval: 1s\n"
                           "rule_files:\n"
                           "  - '"
                        << kRulesFile
                        << "'\n"
                           "scrape_configs:\n"
                           "  - job_name: gqa\n"
                           "    static_configs:\n"
                           "      - targets: ['127.0.0.1:"
                        << (*exposer)->port() << "']\n";

  // Bounded wait for an external process: Prometheus must start, scrape,
  // and answer within this.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::optional<nlohmann::json> finished;
  for (int attempt = 0; attempt < 3 && !finished; ++attempt) {
    const int web_port = FreeLoopbackPort();
    ASSERT_GT(web_port, 0);
    const std::string log = dir.File(absl::StrCat("prometheus", attempt, ".log"));
    ChildProcess child(
        {*prometheus, "--config.file=" + config,
         "--storage.tsdb.path=" + dir.File(absl::StrCat("tsdb", attempt)),
         absl::StrCat("--web.listen-address=127.0.0.1:", web_port), "--log.level=warn"},
        log);
    ASSERT_TRUE(child.started()) << "cannot spawn " << *prometheus;
    while (Clock::now() < deadline && child.Running()) {
      std::optional<nlohmann::json> result = Query(web_port, "gqa_requests_finished_total");
      if (result && result->size() == 5) {
        finished = result;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling an external process
    }
    if (!finished) {
      // Exited early (e.g. its port was taken meanwhile): retry on a new port.
      ASSERT_FALSE(child.Running()) << "no scrape within 60 s; log:\n" << ReadFile(log);
      continue;
    }

    std::map<std::string, double> by_reason;
    for (const nlohmann::json& series : *finished) {
      EXPECT_EQ(series["metric"]["job"], "gqa");
      by_reason[series["metric"]["reason"].get<std::string>()] = SampleOf(series);
    }
    EXPECT_EQ(by_reason,
              (std::map<std::string, double>{
                  {"aborted", 0}, {"eos", 1}, {"error", 0}, {"length", 2}, {"stop", 3}}));

    // Every line we served was ingested: the scrape reported no parse error.
    std::optional<nlohmann::json> up = Query(web_port, "up");
    ASSERT_TRUE(up && up->size() == 1);
    EXPECT_EQ(SampleOf((*up)[0]), 1);
    std::optional<nlohmann::json> scraped = Query(web_port, "scrape_samples_scraped");
    ASSERT_TRUE(scraped && scraped->size() == 1);
    EXPECT_EQ(SampleOf((*scraped)[0]), static_cast<double>(num_samples));

    // Six observations in (1, 2.5]: the median interpolates to 1 + 1.5 * 3/6.
    std::optional<nlohmann::json> median =
        Query(web_port, "histogram_quantile(0.5, gqa_e2e_request_latency_seconds_bucket)");
    ASSERT_TRUE(median && median->size() == 1);
    EXPECT_EQ(SampleOf((*median)[0]), 1.75);

    // The common codes exist at 0 from the start; only RESOURCE_EXHAUSTED moved.
    std::optional<nlohmann::json> rejected = Query(web_port, "gqa_requests_rejected_total > 0");
    ASSERT_TRUE(rejected && rejected->size() == 1);
    EXPECT_EQ((*rejected)[0]["metric"]["code"], "RESOURCE_EXHAUSTED");
    EXPECT_EQ(SampleOf((*rejected)[0]), 1);

    // Label escaping survives the round trip byte for byte.
    std::optional<nlohmann::json> info = Query(web_port, "gqa_model_info");
    ASSERT_TRUE(info && info->size() == 1);
    EXPECT_EQ((*info)[0]["metric"]["model"].get<std::string>(), model_name);
    EXPECT_EQ((*info)[0]["metric"]["n_kv_heads"], "2");
    EXPECT_EQ(SampleOf((*info)[0]), 1);

    // An error finish: {reason="error"} was scraped at 0 (it exists from the
    // start), so going to 1 is an increase that rate() sees, and the
    // GqaRequestErrors alert's expression holds: the alert turns pending
    // (it fires after its `for: 5m`) for this job and instance.
    metrics.ObserveRequestFinished(0.5, 10, 3, "error");
    std::optional<nlohmann::json> alert;
    while (Clock::now() < deadline && !alert) {
      alert = PendingAlert(web_port, "GqaRequestErrors");
      if (!alert) std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling
    }
    ASSERT_TRUE(alert) << "GqaRequestErrors never pending; log:\n" << ReadFile(log);
    EXPECT_EQ((*alert)["labels"]["job"], "gqa");
    EXPECT_EQ((*alert)["labels"]["instance"], absl::StrCat("127.0.0.1:", (*exposer)->port()));
    EXPECT_EQ((*alert)["labels"]["severity"], "warning");
    EXPECT_GT(std::stod((*alert)["value"].get<std::string>()), 0);
  }
  ASSERT_TRUE(finished) << "Prometheus never scraped the exposer";
}

}  // namespace
}  // namespace gqa
