"""Helpers shared by the deployment checks (dockerfile_check.py, validate_k8s.py).

Exit code 77 is CTest's skip (SKIP_RETURN_CODE 77 in tests/deploy/CMakeLists.txt).
"""

import os
import queue
import re
import signal
import subprocess
import sys
import threading

SKIP = 77


class Checker:
    """Collects failures so one run reports every problem, not just the first."""

    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, ok, message):
        if ok:
            self.passed += 1
        else:
            self.failures.append(message)
            print(f"FAIL: {message}")
        return ok

    def finish(self, name):
        print(f"{name}: {self.passed} checks passed, {len(self.failures)} failed")
        return 1 if self.failures else 0


def reexec_in_venv(venv, requirements, module):
    """Re-runs this script with a venv's python in which `module` imports,
    creating the venv under the build dir and pip-installing `requirements`
    first. Exits 77 (skip) when that cannot be done (no pip, no PyPI)."""
    py = os.path.join(venv, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return  # already there

    def importable():
        return os.path.exists(py) and subprocess.run(
            [py, "-c", f"import {module}"], capture_output=True).returncode == 0

    if not importable():
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True,
                           timeout=300)
            subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            *requirements], check=True, capture_output=True, timeout=900)
        except (subprocess.SubprocessError, OSError) as e:
            detail = getattr(e, "stderr", b"") or b""
            print(f"SKIP: could not set up {venv} with {' '.join(requirements)}: {e}\n"
                  f"{detail.decode(errors='replace')[-2000:]}")
            sys.exit(SKIP)
        if not importable():
            print(f"SKIP: {module} does not import in {venv}")
            sys.exit(SKIP)
    os.execv(py, [py, *sys.argv])


def venv_tool(venv, requirement, tool):
    """Path of `tool` pip-installed (`requirement`) in a venv under the build
    dir, or None when that cannot be done (no pip, no PyPI)."""
    exe = os.path.join(venv, "bin", tool)
    if os.path.exists(exe):
        return exe
    py = os.path.join(venv, "bin", "python")
    try:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True,
                       timeout=300)
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        requirement], check=True, capture_output=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as e:
        print(f"note: could not install {requirement} into {venv}: {e}")
        return None
    return exe if os.path.exists(exe) else None


def source_text(repo, path):
    with open(os.path.join(repo, path), encoding="utf-8") as f:
        return f.read()


def source_constant(repo, path, pattern, what):
    """The first group of `pattern` in repo file `path`, or exits 1 naming it:
    the deployment's arithmetic depends on that constant."""
    m = re.search(pattern, source_text(repo, path))
    if not m:
        print(f"FAIL: cannot find {what} in {path} (pattern {pattern!r}); if it moved or was "
              f"renamed, update this check and the deployment files that depend on it")
        sys.exit(1)
    return m.group(1)


def server_defaults(repo):
    """gqa-server's default ports and drain timeout, from server/server_options.h."""
    h = "server/server_options.h"
    return {
        "port": int(source_constant(repo, h, r"int port = (\d+);", "the default gRPC port")),
        "metrics_port": int(source_constant(repo, h, r"int metrics_port = (\d+);",
                                            "the default metrics port")),
        "drain_timeout": float(source_constant(repo, h, r"double drain_timeout_seconds = ([\d.]+);",
                                               "the default drain timeout")),
    }


# The sources that register gqa-server's flags: its own, and the backend flags
# it shares with gqa-generate.
SERVER_FLAG_SOURCES = ("server/server_options.cc", "engine/runner/backend_flags.cc")


def server_flags(repo):
    """Every --flag gqa-server's parsers register (SERVER_FLAG_SOURCES), plus --help."""
    flags = {"help"}
    for path in SERVER_FLAG_SOURCES:
        text = source_text(repo, path)
        flags |= set(re.findall(r'p\.Add\w+\(\s*"([a-z0-9-]+)"', text))
    return flags


class RunningServer:
    """A gqa-server process on loopback, any free ports, the built-in demo
    model. Reads its log until it says it serves; stop() sends SIGTERM (the
    drain) and returns the exit code."""

    def __init__(self, binary, extra_args=(), timeout=120):
        self.log = []
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0", "--threads", "2",
             "--http-port", "-1", *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()

        def pump():
            for line in self.proc.stderr:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        self.port = self.metrics_port = None
        while True:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                self.kill()
                raise RuntimeError("gqa-server did not start in time:\n" + "".join(self.log))
            if line is None:
                raise RuntimeError("gqa-server exited while starting:\n" + "".join(self.log))
            self.log.append(line)
            if m := re.search(r"gRPC listening on [\d.]+:(\d+)", line):
                self.port = int(m.group(1))
            if m := re.search(r"metrics at http://[\d.]+:(\d+)/metrics", line):
                self.metrics_port = int(m.group(1))
            if "serving (health SERVING)" in line:
                break
        if self.port is None:
            self.kill()
            raise RuntimeError("gqa-server did not log its port:\n" + "".join(self.log))

    def stop(self, timeout=120):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        self.proc.kill()
        self.proc.wait()
