#!/usr/bin/env python3
"""The official `openai` Python client (PyPI) against gqa-server's HTTP API.

Starts the real gqa-server binary (gRPC and HTTP on free loopback ports) on
the built-in demo model, and on SmolLM2-135M-Instruct where its GGUF is at
hand (GQA_DEFAULT_MODEL_GGUF, else ~/.cache/gqa-serve/...; skipped without
it), then drives completions and chat completions, streaming and not, with
greedy sampling, and checks that every text (and the token usage) equals what
the gRPC API (Debian's python3-grpcio) returns for the same request; also
/v1/models, stream_options.include_usage and two OpenAI-shaped 400s.

The client comes from PyPI into a venv under the build dir (made by
tests/support/reference_venv.py with this interpreter, so its packages import
here beside grpcio). Exit 77 (a CTest skip) without PyPI, grpcio or the
generated gRPC modules.

Usage: openai_client_test.py --server-binary PATH --python-path DIR --venv DIR
"""
import argparse
import os
import re
import subprocess
import sys
import sysconfig
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from reference_venv import SKIP, ensure_venv  # noqa: E402

OPENAI = "openai==3.51.0"
MAX_TOKENS = 24
PROMPT = "The quick brown fox"
CHAT = [{"role": "system", "content": "You are brief."},
        {"role": "user", "content": "Name a colour."}]
ARGS = None


def smollm2_path():
    path = os.environ.get("GQA_DEFAULT_MODEL_GGUF")
    if not path:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(cache, "gqa-serve", "SmolLM2-135M-Instruct.Q4_1.gguf")
    return path if os.path.isfile(path) else None


class Server:
    """gqa-server on loopback, free ports; the log is read until it serves."""

    def __init__(self, model_args):
        self.proc = subprocess.Popen(
            [ARGS.server_binary, "--host", "127.0.0.1", "--port", "0", "--http-port", "0",
             "--metrics-port", "-1", "--threads", "2", *model_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log, self.grpc_port, self.http_port = [], None, None
        for line in self.proc.stderr:  # blocks on the server's output, no timers
            self.log.append(line)
            if m := re.search(r"gRPC listening on 127\.0\.0\.1:(\d+)", line):
                self.grpc_port = int(m.group(1))
            if m := re.search(r"HTTP \(OpenAI API\) listening on 127\.0\.0\.1:(\d+)", line):
                self.http_port = int(m.group(1))
            if "health SERVING" in line:
                break
        if not (self.grpc_port and self.http_port):
            self.stop()
            raise RuntimeError("gqa-server did not start:\n" + "".join(self.log))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=120)
        self.proc.stderr.close()


class OpenAiClientCases:
    """The tests, run once per model by the TestCase classes below."""
    MODEL_ARGS = []
    server = None

    @classmethod
    def setUpClass(cls):
        import grpc
        import openai
        from gqa.v1 import generation_pb2_grpc
        cls.server = Server(cls.MODEL_ARGS)
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{cls.server.grpc_port}")
        try:
            cls.stub = generation_pb2_grpc.GenerationStub(cls.channel)
            # What the client asks for in a venv of its own: Debian's older
            # python3-brotli, visible here beside grpcio, would add "br",
            # which httpx then fails to decode with it.
            cls.client = openai.OpenAI(base_url=f"http://127.0.0.1:{cls.server.http_port}/v1",
                                       api_key="unused", max_retries=0, timeout=300,
                                       default_headers={"Accept-Encoding": "gzip, deflate"})
            cls.model = cls.client.models.list().data[0].id
        except BaseException:  # tearDownClass does not run after a failed setUpClass
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.channel.close()
            cls.server.stop()

    # The gRPC answer to the same greedy request.
    def grpc_generate(self, chat=False):
        from gqa.v1 import generation_pb2 as pb
        kw = {"chat": pb.Chat(messages=[pb.ChatMessage(**m) for m in CHAT])} if chat else \
            {"prompt": PROMPT}
        return self.stub.Generate(pb.GenerateRequest(
            sampling=pb.SamplingParams(temperature=0),
            stopping=pb.StoppingCriteria(max_tokens=MAX_TOKENS), **kw), timeout=300)

    def assert_usage(self, usage, want):
        self.assertGreater(want.usage.completion_tokens, 0)
        self.assertEqual(usage.prompt_tokens, want.usage.prompt_tokens)
        self.assertEqual(usage.completion_tokens, want.usage.completion_tokens)
        self.assertEqual(usage.total_tokens, want.usage.prompt_tokens + want.usage.completion_tokens)

    def test_models(self):
        models = self.client.models.list().data
        self.assertEqual(len(models), 1)
        self.assertEqual(models[0].id, self.model)

    def test_completion(self):
        want = self.grpc_generate()
        r = self.client.completions.create(model=self.model, prompt=PROMPT, max_tokens=MAX_TOKENS,
                                           temperature=0)
        self.assertEqual(len(r.choices), 1)
        self.assertEqual(r.choices[0].text, want.text)
        self.assert_usage(r.usage, want)

    def test_completion_stream(self):
        want = self.grpc_generate()
        text, usage, finish = "", None, None
        for chunk in self.client.completions.create(
                model=self.model, prompt=PROMPT, max_tokens=MAX_TOKENS, temperature=0,
                stream=True, stream_options={"include_usage": True}):
            if chunk.choices:
                text += chunk.choices[0].text
                finish = chunk.choices[0].finish_reason or finish
            if chunk.usage:
                self.assertIsNone(usage, "one usage chunk")
                usage = chunk.usage
        self.assertEqual(text, want.text)
        self.assertIn(finish, ("length", "stop"))
        self.assertIsNotNone(usage)
        self.assert_usage(usage, want)

    def test_chat(self):
        want = self.grpc_generate(chat=True)
        r = self.client.chat.completions.create(model=self.model, messages=CHAT,
                                                max_tokens=MAX_TOKENS, temperature=0)
        self.assertEqual(len(r.choices), 1)
        self.assertEqual(r.choices[0].message.role, "assistant")
        self.assertEqual(r.choices[0].message.content, want.text)
        self.assert_usage(r.usage, want)

    def test_chat_stream(self):
        want = self.grpc_generate(chat=True)
        text, roles, usage = "", [], None
        for chunk in self.client.chat.completions.create(
                model=self.model, messages=CHAT, max_completion_tokens=MAX_TOKENS, temperature=0,
                stream=True, stream_options={"include_usage": True}):
            if chunk.choices:
                delta = chunk.choices[0].delta
                if delta.role:
                    roles.append(delta.role)
                text += delta.content or ""
            if chunk.usage:
                usage = chunk.usage
        self.assertEqual(roles, ["assistant"])
        self.assertEqual(text, want.text)
        self.assertIsNotNone(usage)
        self.assert_usage(usage, want)

    def test_bad_parameters_are_openai_400s(self):
        import openai
        with self.assertRaises(openai.BadRequestError) as e:
            self.client.completions.create(model=self.model, prompt=PROMPT, max_tokens=4, top_p=1.5)
        self.assertEqual(e.exception.status_code, 400)
        self.assertIn("top_p", str(e.exception))
        with self.assertRaises(openai.BadRequestError) as e:
            self.client.completions.create(model=self.model, prompt=PROMPT, max_tokens=4, n=2)
        self.assertEqual(e.exception.status_code, 400)


class DemoModelTest(OpenAiClientCases, unittest.TestCase):
    MODEL_ARGS = []


class SmolLM2Test(OpenAiClientCases, unittest.TestCase):
    MODEL_ARGS = ["--model", smollm2_path() or ""]

    @classmethod
    def setUpClass(cls):
        if smollm2_path() is None:
            raise unittest.SkipTest("no SmolLM2-135M-Instruct GGUF (GQA_DEFAULT_MODEL_GGUF)")
        super().setUpClass()


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--python-path", required=True, help="the generated gqa.v1 modules")
    ap.add_argument("--venv", required=True, help="venv for the openai client (build dir)")
    ARGS, rest = ap.parse_known_args()
    sys.path.insert(0, ARGS.python_path)
    try:
        import grpc  # noqa: F401
        from gqa.v1 import generation_pb2, generation_pb2_grpc  # noqa: F401
    except ImportError as e:
        print(f"SKIP: {e}")
        return SKIP
    py = ensure_venv(ARGS.venv, [OPENAI], imports=["openai"])
    if py is None:
        print(f"SKIP: could not install {OPENAI} from PyPI into {ARGS.venv}")
        return SKIP
    # The venv was made with this interpreter: its packages import here, ahead
    # of the system's (grpcio stays the system's).
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert sysconfig.get_python_version() in site, (site, sys.version)
    sys.path.insert(0, site)
    result = unittest.main(argv=[sys.argv[0], "-v", *rest], exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
