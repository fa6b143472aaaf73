#!/usr/bin/python3
"""A soak under faults (issue 15): gqa-server on the CPU for a fixed time.

Starts the real gqa-server (demo model unless --model) with a small KV pool
and a short queue, then for --minutes drives it with
  - gqa-bench runs in a loop (random, shared-prefix and multi-turn chat
    workloads, streaming), and
  - fault workers (grpcio, this file): unary and streaming calls, random
    client cancellations, short deadlines, oversized and malformed requests
    (bad fields and undecodable bytes), bursts past the queue limit, and
    low/high priority mixes that force preemption,
sampling every --sample-interval seconds RSS, threads and fds (/proc) and KV
blocks used, running and waiting requests (/metrics). Then it stops the load,
waits for the server to go idle, and ends with a SIGTERM drain while requests
run.

Pass (all must hold; exit 0, else 1):
  - no crash: the server is alive until the SIGTERM and then exits 0;
  - accounting: finished + rejected + cancelled = sent, over every request
    of both clients (a request ending any other way is an error);
  - KV blocks used = 0 once idle;
  - RSS flat after warm-up: the median RSS of the last quarter of the
    post-warm-up load samples exceeds that of the first quarter by at most
    --rss-bound-mib (default 8 MiB). Warm-up: the first 20% of the load phase
    (at least 30 s).
Writes DIR/NAME.md (table), DIR/NAME.csv (samples), DIR/NAME.png (RSS and
KV blocks over time) with DIR = --results-dir, NAME = --name.

Usage (from the repository root; Debian's python3-grpcio and matplotlib):
  /usr/bin/python3 bench/soak/soak.py --build-dir build/release --minutes 10
  CI: /usr/bin/python3 bench/soak/soak.py --build-dir build/release --minutes 2 \
        --results-dir build/release/soak --name soak_ci
The build dir must have gqa-server, gqa-bench and the Python stubs
(targets gqa-server gqa-bench gqa_proto_python).
"""
import argparse
import json
import os
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import soak_faults  # noqa: E402 (same directory)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build-dir", default="build/release")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--model", default="", help="model path (default: the built-in demo model)")
    p.add_argument("--kv-cache-memory", default="",
                   help="server flag (default: 1MiB with the demo model, 16MiB otherwise)")
    p.add_argument("--max-queued-requests", type=int, default=24)
    p.add_argument("--max-num-seqs", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sample-interval", type=float, default=5)
    p.add_argument("--fault-workers", type=int, default=3)
    p.add_argument("--rss-bound-mib", type=float, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--results-dir", default="bench/results")
    p.add_argument("--name", default="soak_cpu")
    p.add_argument("--note", default="", help="a line for the results file (e.g. machine load)")
    return p.parse_args()


class Server:
    """gqa-server as a child; its log is read on a thread (and kept)."""

    def __init__(self, args, log_path):
        binary = os.path.join(args.build_dir, "server", "gqa-server")
        kv = args.kv_cache_memory or ("1MiB" if not args.model else "16MiB")
        cmd = [binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0",
               "--threads", str(args.threads), "--kv-cache-memory", kv,
               "--max-num-seqs", str(args.max_num_seqs),
               "--max-queued-requests", str(args.max_queued_requests),
               "--drain-timeout", "60"]
        if args.model:
            cmd += ["--model", args.model]
        self.cmd = cmd
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     text=True)
        self.port = self.metrics_port = None
        self.serving = threading.Event()
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        if not self.serving.wait(600):
            raise RuntimeError("gqa-server did not start:\n" + "".join(self.lines))

    def _read(self):
        for line in self.proc.stderr:
            self.log.write(line)
            self.log.flush()
            self.lines.append(line)
            m = re.search(r"gRPC listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
            m = re.search(r"metrics at http://127\.0\.0\.1:(\d+)/metrics", line)
            if m:
                self.metrics_port = int(m.group(1))
            if "health SERVING" in line and self.port and self.metrics_port:
                self.serving.set()

    def address(self):
        return f"127.0.0.1:{self.port}"

    def metrics(self):
        """{name: summed value} over every label set; {} if unreachable."""
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name = re.split(r"[{ ]", line, 1)[0]
            try:
                out[name] = out.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
            except ValueError:
                pass
        return out

    def proc_stats(self):
        pid = self.proc.pid
        rss_kib = threads = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss_kib = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return rss_kib / 1024.0, threads, fds


class Sampler(threading.Thread):
    def __init__(self, server, ledger, interval, t0):
        super().__init__(daemon=True)
        self.server, self.ledger, self.interval, self.t0 = server, ledger, interval, t0
        self.rows = []
        self.phase = "load"
        self.stop = threading.Event()

    def sample(self):
        if self.server.proc.poll() is not None:
            return
        try:
            rss, threads, fds = self.server.proc_stats()
        except (OSError, TypeError):
            return
        m = self.server.metrics()
        self.rows.append({
            "t_s": round(time.monotonic() - self.t0, 2), "phase": self.phase,
            "rss_mib": round(rss, 2), "threads": threads, "fds": fds,
            "kv_blocks_used": m.get("gqa_kv_cache_blocks_used"),
            "kv_blocks_total": m.get("gqa_kv_cache_blocks_total"),
            "running": m.get("gqa_requests_running"), "waiting": m.get("gqa_requests_waiting"),
            "client_open": self.ledger.open_calls(),
            "preemptions": m.get("gqa_preemptions_total"),
        })

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)


class BenchLoop(threading.Thread):
    """gqa-bench runs, one after another, until stopped; counted into the ledger."""

    WORKLOADS = [
        ["--num-prompts", "16", "--request-rate", "6", "--input-len", "64", "--output-len", "32"],
        ["--num-prompts", "12", "--request-rate", "6", "--shared-prefix-len", "128",
         "--input-len", "32", "--output-len", "24"],
        ["--turns", "3", "--num-conversations", "4", "--request-rate", "4", "--input-len", "32",
         "--output-len", "16"],
    ]

    def __init__(self, args, server, ledger, tmp):
        super().__init__(daemon=True)
        self.binary = os.path.join(args.build_dir, "client", "loadgen", "gqa-bench")
        self.server, self.ledger, self.tmp = server, ledger, tmp
        self.stop = threading.Event()
        self.runs = 0
        self.errors = []

    def run(self):
        k = 0
        while not self.stop.is_set():
            path = os.path.join(self.tmp, f"bench{k % 2}.json")
            cmd = [self.binary, "--server", self.server.address(), "--seed", str(k),
                   "--request-timeout", "120", "--no-progress", "--result-json", path]
            cmd += self.WORKLOADS[k % len(self.WORKLOADS)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            k += 1
            if r.returncode != 0:
                self.errors.append(f"gqa-bench exit {r.returncode}: {r.stderr.strip()[-300:]}")
                if self.server.proc.poll() is not None:
                    return
                continue
            with open(path) as f:
                run = json.load(f)["runs"][0]
            for req in run["requests"]:
                if req["status"] == "ABORTED" and req.get("error", "").startswith("not sent"):
                    continue  # a failed turn's follow-up: never sent
                self.ledger.record("bench", req["status"])
            self.runs += 1


def idle(server, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        m = server.metrics()
        if m and m.get("gqa_requests_running", 1) == 0 and m.get("gqa_requests_waiting", 1) == 0:
            return m
        time.sleep(1)
    return server.metrics()


def main():
    args = parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.results_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="gqa-soak-")
    sys.path.insert(0, os.path.join(args.build_dir, "proto", "python"))
    ledger = soak_faults.Ledger()
    t_start = time.time()
    server = Server(args, os.path.join(tmp, "server.log"))
    t0 = time.monotonic()
    info = soak_faults.model_info(server.address())
    sampler = Sampler(server, ledger, args.sample_interval, t0)
    sampler.start()

    total_s = args.minutes * 60
    tail_s = max(20.0, 0.1 * total_s)  # idle + drain at the end
    load_s = total_s - tail_s
    stop = threading.Event()
    workers = [threading.Thread(target=soak_faults.fault_worker,
                                args=(server.address(), info, ledger, stop,
                                      random.Random(rng.random()), f"w{i}"), daemon=True)
               for i in range(args.fault_workers)]
    workers.append(threading.Thread(target=soak_faults.pressure_worker,
                                    args=(server.address(), info, ledger, stop,
                                          random.Random(rng.random()), args), daemon=True))
    bench = BenchLoop(args, server, ledger, tmp)
    for w in workers:
        w.start()
    bench.start()
    while time.monotonic() - t0 < load_s and server.proc.poll() is None:
        time.sleep(1)
    stop.set()
    bench.stop.set()
    sampler.phase = "stopping"  # calls in flight finish; no new ones
    for w in workers:
        w.join(300)
    bench.join(600)
    crashed_during_load = server.proc.poll() is not None

    sampler.phase = "idle"
    idle_metrics = idle(server) if not crashed_during_load else {}
    for _ in range(2):
        sampler.sample()
        time.sleep(1)
    kv_idle = idle_metrics.get("gqa_kv_cache_blocks_used")

    sampler.phase = "drain"
    drain = {"exit_code": None, "seconds": None}
    if not crashed_during_load:
        drain = soak_faults.drain(server, info, ledger)
    sampler.stop.set()
    sampler.join(30)
    t_end = time.time()

    report(args, server, ledger, sampler.rows, bench, info, kv_idle, idle_metrics, drain,
           crashed_during_load, load_s, t_start, t_end)


def rss_check(rows, load_s, bound):
    warm = max(30.0, 0.2 * load_s)
    post = [r["rss_mib"] for r in rows if r["phase"] == "load" and r["t_s"] >= warm]
    if len(post) < 4:
        return None, None, None, warm, False
    q = max(1, len(post) // 4)
    first, last = statistics.median(post[:q]), statistics.median(post[-q:])
    return first, last, max(post), warm, last - first <= bound


def report(args, server, ledger, rows, bench, info, kv_idle, idle_metrics, drain, crashed,
           load_s, t_start, t_end):
    import csv
    base = os.path.join(args.results_dir, args.name)
    with open(base + ".csv", "w", newline="") as f:
        if rows:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(rows)
    first, last, peak, warm, rss_ok = rss_check(rows, load_s, args.rss_bound_mib)
    counts = ledger.snapshot()
    sent = counts["sent"]
    accounted = counts["finished"] + counts["rejected"] + counts["cancelled"]
    checks = [
        ("no crash (alive through the load)", not crashed),
        ("finished + rejected + cancelled = sent", accounted == sent and counts["open"] == 0),
        ("KV blocks used = 0 when idle", kv_idle == 0),
        (f"RSS growth after warm-up <= {args.rss_bound_mib:g} MiB", rss_ok),
        ("SIGTERM drain exits 0", drain["exit_code"] == 0),
        ("drain: in-flight streams finished OK", drain.get("streams_ok") == drain.get("streams")),
    ]
    ok = all(c[1] for c in checks)
    plot(base + ".png", rows, warm)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    load = open("/proc/loadavg").read().split()[:3]
    L = []
    L.append(f"# Soak under faults: gqa-server on the CPU, {args.minutes:g} minutes\n")
    L.append(f"Result: **{'PASS' if ok else 'FAIL'}**. Commit {commit}, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(t_start))}, "
             f"{os.cpu_count()} CPUs, load average at the end {' '.join(load)}"
             f"{'; ' + args.note if args.note else ''}.\n")
    L.append("Command: `/usr/bin/python3 " + shlex.join(sys.argv) + "`\n")
    L.append(f"Server: `{' '.join(os.path.relpath(c) if c.startswith('/') else c for c in server.cmd)}`"
             f" ({info['name']}: vocab {info['vocab']}, context {info['context']}; "
             f"{rows[0]['kv_blocks_total'] if rows else '?'} KV blocks).\n")
    L.append("| check | result |\n|---|---|")
    for name, good in checks:
        L.append(f"| {name} | {'pass' if good else 'FAIL'} |")
    L.append("")
    L.append("| requests | count |\n|---|---|")
    for k in ("sent", "finished", "rejected", "cancelled", "errors", "open"):
        L.append(f"| {k} | {counts[k]} |")
    L.append("")
    L.append("| client | kind | status | count |\n|---|---|---|---|")
    for (client, kind, status), n in sorted(counts["by"].items()):
        L.append(f"| {client} | {kind} | {status} | {n} |")
    L.append("")
    rss = [r["rss_mib"] for r in rows]
    L.append("| resource | value |\n|---|---|")
    if first is not None:
        L.append(f"| RSS after warm-up ({warm:.0f} s), first quarter median | {first:.1f} MiB |")
        L.append(f"| RSS, last quarter median | {last:.1f} MiB (growth {last - first:+.1f} MiB, "
                 f"bound {args.rss_bound_mib:g}) |")
        L.append(f"| RSS peak | {max(rss):.1f} MiB |")
    if rows:
        L.append(f"| threads min / max | {min(r['threads'] for r in rows)} / "
                 f"{max(r['threads'] for r in rows)} |")
        L.append(f"| fds min / max | {min(r['fds'] for r in rows)} / {max(r['fds'] for r in rows)} |")
        used = [r["kv_blocks_used"] for r in rows if r["kv_blocks_used"] is not None]
        if used:
            L.append(f"| KV blocks used, max / when idle | {max(used):.0f} / {kv_idle} |")
        L.append(f"| samples (every {args.sample_interval:g} s) | {len(rows)} |")
    L.append(f"| preemptions (server) | {idle_metrics.get('gqa_preemptions_total')} |")
    L.append(f"| server: finished / rejected (its counters) | "
             f"{idle_metrics.get('gqa_requests_finished_total')} / "
             f"{idle_metrics.get('gqa_requests_rejected_total')} |")
    L.append(f"| gqa-bench runs | {bench.runs} ({len(bench.errors)} failed to run) |")
    L.append(f"| drain | exit {drain['exit_code']} after {drain['seconds']} s, "
             f"{drain.get('streams_ok')}/{drain.get('streams')} in-flight streams OK, "
             f"request after SIGTERM: {drain.get('after_sigterm')} |")
    L.append("")
    L.append("Kinds: `stream`/`unary` plain calls; `*_cancel` cancelled by the client at a random "
             "point; `deadline` a 10-100 ms deadline; `oversized` prompt longer than the context or "
             "max_tokens past it; `malformed` bad fields (token id >= vocab, negative temperature, "
             "top_logprobs 99, no prompt) or undecodable bytes; `burst` 2 x the queue limit at once "
             "(RESOURCE_EXHAUSTED expected); `low`/`high` priority +10 / -10 long requests against "
             "a small KV pool (preemption); `bench` gqa-bench's requests (random, shared-prefix, "
             "3-turn chat). `cancelled` counts CANCELLED and DEADLINE_EXCEEDED; `rejected` every "
             "status the server returns for a bad or refused request (INVALID_ARGUMENT, "
             "RESOURCE_EXHAUSTED, OUT_OF_RANGE, ALREADY_EXISTS; for undecodable bytes, which gRPC C++ "
             "refuses before our handler, UNIMPLEMENTED (its callback API's answer, "
             "grpc/grpc#30454) or INTERNAL; UNAVAILABLE only after the SIGTERM); any other "
             "ending is an error.")
    L.append(f"\nPlot: {args.name}.png (RSS and KV blocks used over time); samples: "
             f"{args.name}.csv.")
    if bench.errors:
        L.append("\ngqa-bench errors:\n")
        L += [f"- {e}" for e in bench.errors[:5]]
    if counts["error_samples"]:
        L.append("\nUnexpected endings (first few):\n")
        L += [f"- {e}" for e in counts["error_samples"][:10]]
    with open(base + ".md", "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))
    print(f"\nwrote {base}.md, {base}.csv, {base}.png; server log in {server.log.name}")
    sys.exit(0 if ok else 1)


def plot(path, rows, warm):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot", file=sys.stderr)
        return
    if not rows:
        return
    t = [r["t_s"] / 60 for r in rows]
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    a.plot(t, [r["rss_mib"] for r in rows], color="tab:blue")
    a.set_ylabel("RSS (MiB)")
    a.axvline(warm / 60, color="gray", linestyle=":", label="end of warm-up")
    stop = [r["t_s"] / 60 for r in rows if r["phase"] != "load"]
    if stop:
        for ax in (a, b):
            ax.axvline(stop[0], color="black", linestyle="--", linewidth=0.8)
        a.text(stop[0], a.get_ylim()[0], " load stops", fontsize=8, va="bottom")
    a.legend(loc="lower right")
    a.grid(alpha=0.3)
    b.plot(t, [r["kv_blocks_used"] or 0 for r in rows], color="tab:orange", label="KV blocks used")
    b.plot(t, [(r["running"] or 0) + (r["waiting"] or 0) for r in rows], color="tab:green",
           label="requests running + waiting")
    total = rows[0]["kv_blocks_total"]
    if total:
        b.axhline(total, color="tab:orange", linestyle="--", linewidth=0.8, label="KV blocks total")
    b.set_xlabel("minutes")
    b.legend(loc="upper right", fontsize=8)
    b.grid(alpha=0.3)
    fig.suptitle("gqa-server soak under faults (CPU)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
