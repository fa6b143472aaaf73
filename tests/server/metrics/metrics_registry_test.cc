#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "server/metrics/registry.h"
#include "server/metrics/text_format.h"

namespace gqa::metrics {
namespace {

std::string Render(const Registry& r) { return RenderTextFormat(r.Collect()); }

TEST(RegistryTest, FreshRegistryRendersFamiliesAtZero) {
  Registry r;
  ASSERT_TRUE(r.AddCounter("jobs_total", "Jobs done.", {"reason"}).ok());
  Family<Gauge>* g = *r.AddGauge("queue_depth", "Queued jobs.", {});
  Family<Histogram>* h = *r.AddHistogram("job_seconds", "Job latency.", {}, {0.001, 0.5});
  ASSERT_TRUE(g->WithLabels({}).ok());
  ASSERT_TRUE(h->WithLabels({}).ok());
  EXPECT_EQ(Render(r),
            "# HELP jobs_total Jobs done.\n"
            "# TYPE jobs_total counter\n"
            "# HELP queue_depth Queued jobs.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth 0\n"
            "# HELP job_seconds Job latency.\n"
            "# TYPE job_seconds histogram\n"
            "job_seconds_bucket{le=\"0.001\"} 0\n"
            "job_seconds_bucket{le=\"0.5\"} 0\n"
            "job_seconds_bucket{le=\"+Inf\"} 0\n"
            "job_seconds_sum 0\n"
            "job_seconds_count 0\n");
}

TEST(RegistryTest, RendersObservationsWithSortedEscapedLabels) {
  Registry r;
  Family<Counter>* jobs = *r.AddCounter("jobs_total", "Jobs done.", {"reason", "who"});
  Family<Histogram>* lat = *r.AddHistogram("job_seconds", "Job latency.", {"op"}, {0.001, 0.5});
  (*jobs->WithLabels({"stop", "b"}))->Increment();
  (*jobs->WithLabels({"stop", "b"}))->Increment(2);
  (*jobs->WithLabels({"length", "say \"hi\"\\\n"}))->Increment();
  Histogram* read = *lat->WithLabels({"read"});
  read->Observe(0.001);  // on the bound: counts in le="0.001"
  read->Observe(0.25);
  read->Observe(7);
  EXPECT_EQ(Render(r),
            "# HELP jobs_total Jobs done.\n"
            "# TYPE jobs_total counter\n"
            "jobs_total{reason=\"length\",who=\"say \\\"hi\\\"\\\\\\n\"} 1\n"
            "jobs_total{reason=\"stop\",who=\"b\"} 3\n"
            "# HELP job_seconds Job latency.\n"
            "# TYPE job_seconds histogram\n"
            "job_seconds_bucket{op=\"read\",le=\"0.001\"} 1\n"
            "job_seconds_bucket{op=\"read\",le=\"0.5\"} 2\n"
            "job_seconds_bucket{op=\"read\",le=\"+Inf\"} 3\n"
            "job_seconds_sum{op=\"read\"} 7.251\n"
            "job_seconds_count{op=\"read\"} 3\n");
}

TEST(RegistryTest, SameLabelsGiveSameSeries) {
  Registry r;
  Family<Counter>* f = *r.AddCounter("x_total", "x", {"a"});
  EXPECT_EQ(*f->WithLabels({"1"}), *f->WithLabels({"1"}));
  EXPECT_NE(*f->WithLabels({"1"}), *f->WithLabels({"2"}));
}

TEST(RegistryTest, WrongLabelCountIsAnError) {
  Registry r;
  Family<Counter>* f = *r.AddCounter("x_total", "x", {"a", "b"});
  const absl::Status s = f->WithLabels({"only one"}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("x_total"), absl::string_view::npos) << s;
}

TEST(RegistryTest, CounterIgnoresNegativeAndNan) {
  Counter c;
  c.Increment(2);
  c.Increment(-1);
  c.Increment(std::nan(""));
  EXPECT_EQ(c.Value(), 2);
}

TEST(RegistryTest, RejectsBadNames) {
  Registry r;
  const auto code = [](const absl::Status& s) { return s.code(); };
  using absl::StatusCode;
  EXPECT_EQ(code(r.AddGauge("1abc", "", {}).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(r.AddGauge("a-b", "", {}).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(r.AddGauge("", "", {}).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(r.AddCounter("requests", "", {}).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(r.AddGauge("g", "", {"__reserved"}).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(r.AddGauge("g", "", {"a:b"}).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(r.AddGauge("g", "", {"a", "a"}).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(r.AddHistogram("h", "", {"le"}, {1}).status()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(r.AddHistogram("h", "", {}, {2, 1}).status()), StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.AddGauge("ns:good_name", "", {"le"}).ok());  // le is fine off histograms
}

TEST(RegistryTest, RejectsClashingSampleNames) {
  Registry r;
  ASSERT_TRUE(r.AddHistogram("lat", "", {}, {1}).ok());
  EXPECT_EQ(r.AddGauge("lat_count", "", {}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.AddGauge("lat_bucket", "", {}).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(r.AddGauge("g", "", {}).ok());
  EXPECT_EQ(r.AddGauge("g", "", {}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.AddHistogram("g", "", {}, {}).status().code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace gqa::metrics
