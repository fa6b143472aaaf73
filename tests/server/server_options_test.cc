#include "server/server_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gqa {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<ServerOptions> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "gqa-server");
  return ParseServerArgs(static_cast<int>(args.size()), args.data());
}

TEST(ServerOptionsTest, Defaults) {
  absl::StatusOr<ServerOptions> o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->model.model.empty());  // the demo model
  EXPECT_EQ(o->port, 50051);
  EXPECT_EQ(o->metrics_port, 9400);
  EXPECT_EQ(o->host, "0.0.0.0");
  EXPECT_EQ(o->engine.block_size, 16);
  EXPECT_EQ(o->engine.kv_cache_bytes, size_t{2} << 30);
  EXPECT_EQ(o->queue.max_queued_requests, 256);
  EXPECT_EQ(o->queue.max_queued_tokens, 0);
  EXPECT_EQ(o->drain_timeout_seconds, 30);
}

TEST(ServerOptionsTest, EveryFlag) {
  absl::StatusOr<ServerOptions> o =
      Parse({"--model", "m.bin", "--tokenizer", "t.bin", "--port", "0", "--metrics-port", "-1",
             "--host", "127.0.0.1", "--max-num-batched-tokens", "1024", "--max-num-seqs", "8",
             "--block-size", "32", "--kv-cache-memory", "512MiB", "--max-queued-requests", "5",
             "--max-queued-tokens", "4096", "--drain-timeout", "2.5", "--threads", "3",
             "--load-format", "dummy", "--preset", "tiny", "--seed", "7", "--max-model-len", "99",
             "--backend", "cpu", "--dtype", "bf16", "--device", "1", "--gpu-memory-utilization",
             "0.5", "--kv-cache-dtype", "bf16"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->model.model, "m.bin");
  EXPECT_EQ(o->model.tokenizer, "t.bin");
  EXPECT_EQ(o->model.load_format, "dummy");
  EXPECT_EQ(o->model.preset, "tiny");
  EXPECT_EQ(o->port, 0);
  EXPECT_EQ(o->metrics_port, -1);
  EXPECT_EQ(o->engine.max_num_batched_tokens, 1024);
  EXPECT_EQ(o->engine.max_num_seqs, 8);
  EXPECT_EQ(o->engine.block_size, 32);
  EXPECT_EQ(o->engine.kv_cache_bytes, size_t{512} << 20);
  EXPECT_EQ(o->engine.max_model_len, 99);
  EXPECT_EQ(o->engine.seed, 7u);
  EXPECT_EQ(o->queue.max_queued_requests, 5);
  EXPECT_EQ(o->queue.max_queued_tokens, 4096);
  EXPECT_EQ(o->drain_timeout_seconds, 2.5);
  EXPECT_EQ(o->backend.threads, 3);
  EXPECT_EQ(o->backend.backend, "cpu");
  EXPECT_EQ(o->backend.dtype, "bf16");
  EXPECT_EQ(o->backend.kv_cache_dtype, "bf16");
  EXPECT_EQ(o->backend.device, 1);
  EXPECT_DOUBLE_EQ(o->backend.gpu_memory_utilization, 0.5);
  EXPECT_TRUE(o->kv_cache_memory_set);
}

TEST(ServerOptionsTest, BadValuesNameTheFlag) {
  EXPECT_THAT(std::string(Parse({"--port", "70000"}).status().message()), HasSubstr("--port"));
  EXPECT_THAT(std::string(Parse({"--gpu-memory-utilization", "1.5"}).status().message()),
              HasSubstr("--gpu-memory-utilization"));
  EXPECT_THAT(std::string(Parse({"--device", "-1"}).status().message()), HasSubstr("--device"));
  EXPECT_THAT(std::string(Parse({"--threads", "-2"}).status().message()), HasSubstr("--threads"));
  EXPECT_THAT(std::string(Parse({"--block-size", "0"}).status().message()),
              HasSubstr("--block-size"));
  EXPECT_THAT(std::string(Parse({"--kv-cache-memory", "lots"}).status().message()),
              HasSubstr("--kv-cache-memory"));
  EXPECT_THAT(std::string(Parse({"--drain-timeout", "-1"}).status().message()),
              HasSubstr("--drain-timeout"));
  EXPECT_THAT(std::string(Parse({"--bogus"}).status().message()), HasSubstr("--bogus"));
  EXPECT_THAT(std::string(Parse({"extra"}).status().message()), HasSubstr("extra"));
}

TEST(ServerOptionsTest, PrefixCachingIsOnUnlessTurnedOff) {
  absl::StatusOr<ServerOptions> o = Parse({});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->engine.enable_prefix_caching);
  o = Parse({"--enable-prefix-caching"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->engine.enable_prefix_caching);
  o = Parse({"--no-enable-prefix-caching"});
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->engine.enable_prefix_caching);
  EXPECT_THAT(
      std::string(
          Parse({"--enable-prefix-caching", "--no-enable-prefix-caching"}).status().message()),
      HasSubstr("--no-enable-prefix-caching"));
}

TEST(ServerOptionsTest, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("123"), 123u);
  EXPECT_EQ(*ParseByteSize("2GiB"), size_t{2} << 30);
  EXPECT_EQ(*ParseByteSize("1.5g"), size_t{1500000000});
  EXPECT_EQ(*ParseByteSize("64KiB"), size_t{65536});
  EXPECT_EQ(*ParseByteSize("1e6"), size_t{1000000});
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_FALSE(ParseByteSize("-1").ok());
  EXPECT_FALSE(ParseByteSize("5 apples").ok());
}

}  // namespace
}  // namespace gqa
