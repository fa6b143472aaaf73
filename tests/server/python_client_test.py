#!/usr/bin/env python3
"""A second, independent client: Debian's python3-grpcio against gqa-server.

Starts the real gqa-server binary on a free port, then checks Generate,
GenerateStream (streamed text == unary text for the same seed), Tokenize,
GetModelInfo, an INVALID_ARGUMENT, grpc.health.v1 and server reflection (both
over generic calls with hand-encoded bytes: Debian packages neither
grpcio-health-checking nor grpcio-reflection), Abort from a second channel
(with ALREADY_EXISTS for a live id) and GetLoad, and finally SIGTERM -> exit 0.

Usage: python_client_test.py --server-binary PATH --python-path DIR
Exit 77 (a CTest skip) when grpc or the generated modules cannot be imported.
"""
import argparse
import re
import signal
import subprocess
import sys
import time
import unittest

ARGS = None


def import_stubs(python_path):
    sys.path.insert(0, python_path)
    try:
        import grpc  # noqa: F401
        from gqa.v1 import generation_pb2, generation_pb2_grpc  # noqa: F401
    except ImportError as e:
        print(f"skipping: {e}", file=sys.stderr)
        sys.exit(77)


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import grpc
        from gqa.v1 import generation_pb2_grpc
        cls.proc = subprocess.Popen(
            [ARGS.server_binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "-1",
             "--http-port", "-1", "--threads", "2"],
            stderr=subprocess.PIPE, text=True)
        cls.log = []
        port = None
        # Read the server's log until it serves (blocks on its output, no timers).
        for line in cls.proc.stderr:
            cls.log.append(line)
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
            if "health SERVING" in line:
                break
        assert port, "".join(cls.log)
        cls.channel_target = f"127.0.0.1:{port}"
        cls.channel = grpc.insecure_channel(cls.channel_target)
        cls.stub = generation_pb2_grpc.GenerationStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        if cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait()

    def request(self, **kw):
        from gqa.v1 import generation_pb2 as pb
        return pb.GenerateRequest(
            request_id="py", prompt="The quick brown fox",
            sampling=pb.SamplingParams(temperature=0.8, seed=7),
            stopping=pb.StoppingCriteria(max_tokens=24, ignore_eos=True), **kw)

    def test_1_generate_and_stream_agree(self):
        from gqa.v1 import generation_pb2 as pb
        unary = self.stub.Generate(self.request(), timeout=60)
        self.assertEqual(unary.request_id, "py")
        self.assertEqual(len(unary.token_ids), 24)
        self.assertEqual(unary.finish_reason, pb.FINISH_REASON_LENGTH)
        self.assertEqual(unary.usage.completion_tokens, 24)
        messages = list(self.stub.GenerateStream(self.request(), timeout=60))
        self.assertGreaterEqual(len(messages), 1)  # deltas may coalesce
        self.assertEqual([t for m in messages for t in m.token_ids], list(unary.token_ids))
        self.assertEqual("".join(m.text for m in messages), unary.text)
        self.assertEqual(messages[-1].finish_reason, pb.FINISH_REASON_LENGTH)
        self.assertEqual(messages[-1].usage.prompt_tokens, unary.usage.prompt_tokens)

    def test_2_tokenize_and_info(self):
        from gqa.v1 import generation_pb2 as pb
        t = self.stub.Tokenize(pb.TokenizeRequest(text="ab"), timeout=60)
        self.assertEqual(list(t.token_ids), [1, 100, 101])  # BOS, then bytes + 3
        info = self.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=60)
        self.assertEqual(info.name, "demo")
        self.assertEqual(info.backend, "cpu")
        self.assertEqual(info.n_heads // info.n_kv_heads, 4)
        self.assertEqual(info.kv_cache_tokens, info.num_kv_blocks * info.block_size)

    def test_3_invalid_argument(self):
        import grpc
        from gqa.v1 import generation_pb2 as pb
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.Generate(pb.GenerateRequest(prompt="x", sampling=pb.SamplingParams(top_p=1.5)),
                               timeout=60)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("sampling.top_p", e.exception.details())

    def test_4_health_and_reflection(self):
        identity = lambda b: b  # noqa: E731
        check = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                         request_serializer=identity,
                                         response_deserializer=identity)
        self.assertEqual(check(b"", timeout=60), b"\x08\x01")  # status: SERVING
        name = b"gqa.v1.Generation"
        self.assertEqual(check(b"\x0a" + bytes([len(name)]) + name, timeout=60), b"\x08\x01")
        reflect = self.channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=identity, response_deserializer=identity)
        # ServerReflectionRequest { list_services = 7: "" }
        responses = list(reflect(iter([b"\x3a\x00"]), timeout=60))
        self.assertEqual(len(responses), 1)
        self.assertIn(b"gqa.v1.Generation", responses[0])
        self.assertIn(b"grpc.health.v1.Health", responses[0])

    def test_4a_abort_by_id_from_a_second_channel(self):
        """A second client aborts a live stream by its request_id.

        The demo model generates hundreds of tokens in a fraction of a second,
        so the stream may finish before the Abort arrives: each attempt checks
        whichever happened exactly (found: the stream ends ABORTED, status OK,
        and the duplicate id sent before the Abort was ALREADY_EXISTS; not
        found: it ended LENGTH), and one attempt in five must hit it live."""
        import grpc
        from gqa.v1 import generation_pb2 as pb
        from gqa.v1 import generation_pb2_grpc
        info = self.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=60)
        router_channel = grpc.insecure_channel(self.channel_target)
        router = generation_pb2_grpc.GenerationStub(router_channel)
        aborted_once = False
        try:
            for attempt in range(5):
                rid = f"py-abort-{attempt}"
                stream = self.stub.GenerateStream(pb.GenerateRequest(
                    request_id=rid, prompt="The quick brown fox",
                    sampling=pb.SamplingParams(temperature=0.8, seed=attempt),
                    stopping=pb.StoppingCriteria(ignore_eos=True)), timeout=60)
                messages = [next(stream)]
                try:
                    router.Generate(pb.GenerateRequest(
                        request_id=rid, prompt="x", stopping=pb.StoppingCriteria(max_tokens=1)),
                        timeout=60)
                    duplicate = grpc.StatusCode.OK
                except grpc.RpcError as e:
                    duplicate = e.code()
                found = list(router.Abort(pb.AbortRequest(request_ids=[rid, "py-unknown", ""]),
                                          timeout=60).aborted_request_ids)
                messages += list(stream)  # raises unless the stream ends with status OK
                last = messages[-1]
                tokens = sum(len(m.token_ids) for m in messages)
                self.assertEqual(last.request_id, rid)
                self.assertEqual(last.usage.completion_tokens, tokens)
                if found:
                    self.assertEqual(found, [rid])
                    self.assertEqual(duplicate, grpc.StatusCode.ALREADY_EXISTS)
                    self.assertEqual(last.finish_reason, pb.FINISH_REASON_ABORTED)
                    self.assertLess(tokens, info.context_length - last.usage.prompt_tokens)
                    aborted_once = True
                    break
                self.assertEqual(last.finish_reason, pb.FINISH_REASON_LENGTH)
        finally:
            router_channel.close()
        self.assertTrue(aborted_once, "every stream finished before its Abort arrived")
        # The id is free again once its request has finished.
        again = self.stub.Generate(pb.GenerateRequest(
            request_id=rid, prompt="x", stopping=pb.StoppingCriteria(max_tokens=2)), timeout=60)
        self.assertEqual(again.request_id, rid)
        self.assertEqual(len(again.token_ids), 2)

    def test_4b_get_load(self):
        from gqa.v1 import generation_pb2 as pb
        info = self.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=60)
        self.assertTrue(info.prefix_caching_enabled)  # the default
        # Idle: every earlier call has returned; the engine publishes its
        # stats just after the last final message, so wait for that (bounded).
        deadline = time.monotonic() + 60
        while True:
            load = self.stub.GetLoad(pb.GetLoadRequest(), timeout=60)
            if load.num_running_requests == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        self.assertEqual(load.num_running_requests, 0)
        self.assertEqual(load.num_waiting_requests, 0)
        self.assertEqual(load.num_waiting_prompt_tokens, 0)
        self.assertEqual(load.num_kv_blocks_total, info.num_kv_blocks)
        self.assertEqual(load.num_kv_blocks_used, 0)
        self.assertEqual(load.kv_cache_usage, 0.0)
        self.assertLessEqual(load.num_kv_blocks_cached, load.num_kv_blocks_total)
        self.assertLessEqual(load.prefix_cache_hits_tokens, load.prefix_cache_queries_tokens)
        self.assertFalse(load.draining)

    def test_5_sigterm_drains_and_exits_zero(self):
        self.proc.send_signal(signal.SIGTERM)
        rest = self.proc.stderr.read()
        self.assertEqual(self.proc.wait(timeout=60), 0, rest)
        self.assertIn("drained", rest)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-binary", required=True)
    parser.add_argument("--python-path", required=True)
    ARGS, rest = parser.parse_known_args()
    import_stubs(ARGS.python_path)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
