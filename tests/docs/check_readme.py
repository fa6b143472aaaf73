#!/usr/bin/env python3
"""The README says only what is true of this build.

Checks, against the built binaries and a live gqa-server on the demo model:
  - every command in a ```sh block that names a project binary or script points
    at one that exists, and every --flag it passes is one that binary's --help
    lists;
  - the commands that need no files from elsewhere (gqa-generate on the demo or
    dummy weights, gqa-client against the live server) run and exit 0;
  - the metrics table lists exactly the metric families /metrics exports;
  - the flags table names only real gqa-server flags;
  - the API table names every field of GenerateRequest, Chat, SamplingParams and
    StoppingCriteria in the proto, and nothing else; the RPC table every rpc of
    the Generation service; the Load table every field of Load.
Exit 1 with one line per problem.
"""
import argparse
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

problems = []


def problem(msg):
    problems.append(msg)
    print("README: " + msg)


def sh_commands(text):
    """Commands of the ```sh blocks: continuation lines joined, comments cut."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def help_flags(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60)
    return set(re.findall(r"--([a-z][a-z0-9-]*)", out.stdout + out.stderr))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def table_rows(text, heading):
    """First-column cells of the first table after `heading`."""
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append(line.split("|")[1].strip())
        elif rows:
            break
    return rows[2:]  # header and separator


def proto_fields(proto, message):
    body = re.search(r"message " + message + r" \{(.*?)\n\}", proto, re.S).group(1)
    return set(re.findall(r"^\s*(?:optional |repeated )?\w+ (\w+) = \d+;", body, re.M))


def start_server(server_bin):
    port, metrics_port = free_port(), free_port()
    proc = subprocess.Popen([server_bin, "--backend", "cpu", "--threads", "2",
                             "--port", str(port), "--metrics-port", str(metrics_port),
                             "--http-port", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    for line in proc.stderr:
        if "serving (health SERVING)" in line:
            # Keep reading, so the server never blocks on a full pipe.
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, port, metrics_port
        if time.time() > deadline:
            break
    proc.kill()
    raise SystemExit("gqa-server did not start")


def check_commands(text, repo, bin_dir, server_port):
    helps = {}
    for command in sh_commands(text):
        args = shlex.split(command)
        head = args[0]
        if head.startswith("scripts/"):
            if not os.access(os.path.join(repo, head), os.X_OK):
                problem(f"'{command}': {head} is not an executable script")
            continue
        if not head.startswith("build/release/"):
            continue  # cmake, ctest, docker, kubectl: not ours to check here
        binary = os.path.join(bin_dir, head[len("build/release/"):])
        if not os.access(binary, os.X_OK):
            problem(f"'{command}': {binary} was not built")
            continue
        helps.setdefault(binary, help_flags(binary))
        for flag in re.findall(r"(?:^|\s)--([a-z][a-z0-9-]*)", command):
            if flag not in helps[binary]:
                problem(f"'{command}': --{flag} is not a flag of {os.path.basename(binary)}")
        name = os.path.basename(binary)
        run = None
        if name == "gqa-generate" and "--model" not in args:
            run = [binary] + args[1:] + ["--threads", "2"]
        elif name == "gqa-client":
            run = [binary, "--server", f"127.0.0.1:{server_port}", "--deadline", "120"] + args[1:]
        if run:
            r = subprocess.run(run, capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                problem(f"'{command}' exited {r.returncode}: {r.stderr.strip()[-300:]}")


def check_metrics(text, metrics_port):
    body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30).read()
    exported = set(re.findall(r"^# TYPE (\w+) ", body.decode(), re.M))
    documented = set()
    for cell in table_rows(text, "## Metrics"):
        for name in re.findall(r"`((?:gqa|exposer)_\w+)", cell):  # exposer_: prometheus-cpp's
            documented.add(name)
    for name in sorted(documented - exported):
        problem(f"metrics table: {name} is not exported")
    for name in sorted(exported - documented):
        problem(f"metrics table: {name} is exported but not documented")


def check_flags_table(text, server_bin):
    flags = help_flags(server_bin)
    for cell in table_rows(text, "## Server flags and tuning"):
        for flag in re.findall(r"--([a-z][a-z0-9-]*)", cell):
            if flag not in flags:
                problem(f"flags table: --{flag} is not a gqa-server flag")


def check_same(what, documented, expected):
    for name in sorted(expected - documented):
        problem(f"{what}: {name} is missing")
    for name in sorted(documented - expected):
        problem(f"{what}: {name} is not in the proto")


def check_rpc_and_load_tables(text, proto):
    rpcs = set(re.findall(r"^\s*rpc (\w+)\(", proto, re.M))
    rows = table_rows(text, "## API: `gqa.v1.Generation`")
    documented = {m.group(1) for m in (re.match(r"`(\w+)\(", cell) for cell in rows) if m}
    check_same("RPC table", documented, rpcs)
    fields = set()
    for cell in table_rows(text, "`Load` ("):
        fields.update(re.findall(r"`(\w+)`", cell))
    check_same("Load table", fields, proto_fields(proto, "Load"))


def check_api_table(text, proto):
    documented = set()
    for cell in table_rows(text, "`GenerateRequest`:"):
        for name in re.findall(r"`([\w.]+)`", cell):
            documented.add(name.split(".")[-1])
    expected = (proto_fields(proto, "GenerateRequest") - {"input", "sampling", "stopping"}) \
        | proto_fields(proto, "SamplingParams") | proto_fields(proto, "StoppingCriteria") \
        | proto_fields(proto, "Chat")
    for name in sorted(expected - documented):
        problem(f"API table: field {name} is missing")
    for name in sorted(documented - expected):
        problem(f"API table: {name} is not a field of the proto")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--bin-dir", required=True, help="the build directory (build/release)")
    args = ap.parse_args()
    text = open(os.path.join(args.repo, "README.md"), encoding="utf-8").read()
    proto = open(os.path.join(args.repo, "proto/gqa/v1/generation.proto"), encoding="utf-8").read()
    server_bin = os.path.join(args.bin_dir, "server/gqa-server")

    proc, port, metrics_port = start_server(server_bin)
    try:
        check_commands(text, args.repo, args.bin_dir, port)
        check_metrics(text, metrics_port)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    check_flags_table(text, server_bin)
    check_api_table(text, proto)
    check_rpc_and_load_tables(text, proto)
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print("README: commands, flags, metrics and API tables agree with the build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
