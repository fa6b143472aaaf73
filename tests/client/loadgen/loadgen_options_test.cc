// gqa-bench's flags, and its progress bar.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "client/loadgen/bench_options.h"
#include "client/loadgen/progress_bar.h"

namespace gqa::loadgen {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<BenchOptions> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "gqa-bench");
  return ParseBenchArgs(static_cast<int>(args.size()), args.data());
}

std::string Error(std::vector<const char*> args) {
  absl::StatusOr<BenchOptions> o = Parse(std::move(args));
  EXPECT_FALSE(o.ok());
  return std::string(o.status().message());
}

TEST(BenchOptionsTest, Defaults) {
  absl::StatusOr<BenchOptions> o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->server, "localhost:50051");
  EXPECT_EQ(o->num_prompts, 100);
  ASSERT_EQ(o->request_rates.size(), 1u);
  EXPECT_TRUE(std::isinf(o->request_rates[0]));
  EXPECT_FALSE(o->sweep);
  EXPECT_EQ(o->burstiness, 1);
  EXPECT_EQ(o->max_concurrency, 0);
  EXPECT_EQ(o->dataset, "random");
  EXPECT_EQ(o->input.dist, LengthDist::kFixed);
  EXPECT_EQ(o->input.mean, 128);
  EXPECT_TRUE(o->ignore_eos);
  EXPECT_EQ(o->temperature, 0);
  EXPECT_FALSE(o->slo.any());
  EXPECT_TRUE(o->progress);
}

TEST(BenchOptionsTest, FlagsFillTheOptions) {
  // clang-format off
  absl::StatusOr<BenchOptions> o = Parse({
      "--server", "h:1", "--num-prompts", "24", "--request-rate", "2.5", "--burstiness", "0.5",
      "--max-concurrency", "4", "--seed", "9", "--input-len", "64", "--input-len-dist", "uniform",
      "--range-ratio", "0.25", "--output-len", "16", "--output-len-dist", "sharegpt",
      "--no-ignore-eos", "--temperature", "0.7", "--slo-ttft", "100", "--slo-tpot", "20",
      "--result-json", "r.json", "--request-timeout", "30", "--no-progress"});
  // clang-format on
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->server, "h:1");
  EXPECT_EQ(o->num_prompts, 24);
  EXPECT_EQ(o->request_rates, std::vector<double>{2.5});
  EXPECT_EQ(o->burstiness, 0.5);
  EXPECT_EQ(o->max_concurrency, 4);
  EXPECT_EQ(o->seed, 9u);
  EXPECT_EQ(o->input.dist, LengthDist::kUniform);
  EXPECT_EQ(o->input.mean, 64);
  EXPECT_EQ(o->input.range_ratio, 0.25);
  EXPECT_EQ(o->output.dist, LengthDist::kShareGpt);
  EXPECT_EQ(o->output.sigma, kShareGptOutputSigma);
  EXPECT_FALSE(o->ignore_eos);
  EXPECT_FLOAT_EQ(o->temperature, 0.7f);
  EXPECT_EQ(o->slo.ttft_ms, 100);
  EXPECT_EQ(o->slo.tpot_ms, 20);
  EXPECT_EQ(o->result_json, "r.json");
  EXPECT_EQ(o->request_timeout_s, 30);
  EXPECT_FALSE(o->progress);
}

TEST(BenchOptionsTest, SweepAndJsonlDataset) {
  absl::StatusOr<BenchOptions> o = Parse({"--request-rates", "1,4,inf", "--dataset", "jsonl",
                                          "--dataset-path", "d.jsonl", "--ignore-eos"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->sweep);
  ASSERT_EQ(o->request_rates.size(), 3u);
  EXPECT_TRUE(std::isinf(o->request_rates[2]));
  EXPECT_EQ(o->dataset_path, "d.jsonl");
  EXPECT_TRUE(o->ignore_eos);
}

TEST(BenchOptionsTest, BadFlagsNameTheFlag) {
  EXPECT_THAT(Error({"--num-prompts", "0"}), HasSubstr("--num-prompts must be >= 1"));
  EXPECT_THAT(Error({"--request-rate", "-2"}), HasSubstr("--request-rate: '-2'"));
  EXPECT_THAT(Error({"--request-rates", "1,,x"}), HasSubstr("--request-rates: 'x'"));
  EXPECT_THAT(Error({"--burstiness", "0"}), HasSubstr("--burstiness must be > 0"));
  EXPECT_THAT(Error({"--max-concurrency", "-1"}), HasSubstr("--max-concurrency"));
  EXPECT_THAT(Error({"--input-len", "0"}), HasSubstr("--input-len must be >= 1"));
  EXPECT_THAT(Error({"--range-ratio", "1"}), HasSubstr("--range-ratio must be in [0, 1)"));
  EXPECT_THAT(Error({"--output-len-dist", "zipf"}), HasSubstr("--output-len-dist: 'zipf'"));
  EXPECT_THAT(Error({"--dataset", "sharegpt"}), HasSubstr("--dataset: 'sharegpt'"));
  EXPECT_THAT(Error({"--dataset", "jsonl"}), HasSubstr("needs --dataset-path"));
  EXPECT_THAT(Error({"--dataset-path", "x"}), HasSubstr("--dataset-path is for --dataset jsonl"));
  EXPECT_THAT(Error({"--ignore-eos", "--no-ignore-eos"}), HasSubstr("contradict"));
  EXPECT_THAT(Error({"--slo-ttft", "-5"}), HasSubstr("--slo-ttft must be >= 0"));
  EXPECT_THAT(Error({"--temperature", "-1"}), HasSubstr("--temperature"));
  EXPECT_THAT(Error({"--seed", "x"}), HasSubstr("--seed"));
  EXPECT_THAT(Error({"--frobnicate"}), HasSubstr("unknown flag --frobnicate"));
  EXPECT_THAT(Error({"extra"}), HasSubstr("unexpected argument 'extra'"));
}

TEST(BenchOptionsTest, SharedPrefixAndMultiTurnChat) {
  absl::StatusOr<BenchOptions> o = Parse({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->shared_prefix_len, 0);
  EXPECT_EQ(o->turns, 1);
  EXPECT_EQ(o->num_conversations, 0);
  o = Parse({"--shared-prefix-len", "512", "--turns", "4", "--num-conversations", "8"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->shared_prefix_len, 512);
  EXPECT_EQ(o->turns, 4);
  EXPECT_EQ(o->num_conversations, 8);
  EXPECT_THAT(Error({"--shared-prefix-len", "-1"}), HasSubstr("--shared-prefix-len must be >= 0"));
  EXPECT_THAT(Error({"--turns", "0"}), HasSubstr("--turns must be >= 1, got 0"));
  EXPECT_THAT(Error({"--num-conversations", "3"}), HasSubstr("goes with --turns >= 2"));
  EXPECT_THAT(Error({"--turns", "2", "--num-conversations", "-1"}),
              HasSubstr("--num-conversations must be >= 1"));
  EXPECT_THAT(Error({"--dataset", "jsonl", "--dataset-path", "d", "--turns", "2"}),
              HasSubstr("are for --dataset random"));
}

TEST(BenchOptionsTest, Help) {
  absl::StatusOr<BenchOptions> o = Parse({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
  EXPECT_THAT(o->help_text, HasSubstr("--request-rates"));
}

TEST(ProgressBarTest, Line) {
  EXPECT_EQ(ProgressBar::Line(4, 1, 10, 2.0, 10), "[=====>    ] 5/10 (1 failed) 2.0 s 2.50 req/s");
  EXPECT_EQ(ProgressBar::Line(10, 0, 10, 4.0, 10), "[==========] 10/10 4.0 s 2.50 req/s");
  EXPECT_EQ(ProgressBar::Line(0, 0, 10, 0.0, 4), "[>   ] 0/10 0.0 s");
}

TEST(ProgressBarTest, PlainLinesAtEveryTenPercentWhenNotATerminal) {
  std::ostringstream out;
  ProgressBar bar(out, /*is_tty=*/false, 20, "rate 4");
  bar.Update(0, 0, 0.1);  // 0%
  bar.Update(1, 0, 0.2);  // still 0%
  bar.Update(2, 0, 0.3);  // 10%
  bar.Update(3, 0, 0.4);
  bar.Update(19, 1, 0.5);  // 100%
  bar.Finish(19, 1, 0.5);  // already printed
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_THAT(text, HasSubstr("rate 4 ["));
  EXPECT_THAT(text, HasSubstr("20/20 (1 failed)"));
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(ProgressBarTest, RedrawsInPlaceAFewTimesASecondOnATerminal) {
  std::ostringstream out;
  ProgressBar bar(out, /*is_tty=*/true, 10);
  bar.Update(1, 0, 0.0);
  bar.Update(2, 0, 0.1);  // too soon
  bar.Update(3, 0, 0.25);
  bar.Finish(10, 0, 0.3);  // always drawn
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 3);
  EXPECT_EQ(text.find("2/10"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace gqa::loadgen
