#!/usr/bin/env python3
"""client/loadgen/plot_bench.py on real gqa-bench --result-json files.

Starts the real gqa-server (dummy weights of the 'tiny' preset) on a free
port, runs gqa-bench once at one rate and once as a two-rate sweep, plots both
results to SVG (and one to PNG), and reads the SVG back: every chart (by its
axes id, title and axis labels) and every series (by its line id), the points
of each CDF line against the per-request records of the JSON, the markers of
the throughput-over-time and sweep lines, and the sweep line's x order.

Usage: plot_bench_test.py --server-binary PATH --bench-binary PATH
Exit 77 (a CTest skip) when matplotlib cannot be imported.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "..", "client", "loadgen", "plot_bench.py")
SVG = "{http://www.w3.org/2000/svg}"
ARGS = None


def svg_groups(path):
    """id -> <g> element of an SVG file."""
    root = ET.parse(path).getroot()
    return {g.get("id"): g for g in root.iter(SVG + "g") if g.get("id")}, root


def texts(element):
    return {t.text.strip() for t in element.iter(SVG + "text") if t.text}


def line_vertices(group):
    """Vertices of the line's path: its "M x y" and "L x y" commands."""
    d = group.find(SVG + "path").get("d")
    return re.findall(r"[ML] (-?[\d.]+) (-?[\d.]+)", d)


def markers(group):
    """(x, y) of the markers drawn on a line, in drawing order."""
    return [(float(u.get("x")), float(u.get("y"))) for u in group.iter(SVG + "use")]


def latencies(run):
    ok = [r for r in run["requests"] if r["status"] == "OK"]
    return {
        "ttft": [r["ttft_ms"] for r in ok if r["ttft_ms"] is not None],
        "tpot": [r["tpot_ms"] for r in ok if r["ttft_ms"] is not None and r["output_len"] > 1],
        "itl": [gap for r in ok for gap in r["itl_ms"]],
        "e2el": [r["e2el_ms"] for r in ok],
    }


class PlotBenchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc = subprocess.Popen(
            [ARGS.server_binary, "--load-format", "dummy", "--preset", "tiny", "--backend", "cpu",
             "--host", "127.0.0.1", "--port", "0", "--metrics-port", "-1", "--threads", "1",
             "--http-port", "-1"],
            stderr=subprocess.PIPE, text=True)
        log, port = [], None
        # Read the server's log until it serves (blocks on its output, no timers).
        for line in cls.proc.stderr:
            log.append(line)
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
            if "health SERVING" in line:
                break
        assert port, "".join(log)
        # Keep reading its log so a full pipe never blocks it.
        threading.Thread(target=cls.proc.stderr.read, daemon=True).start()
        cls.server = f"127.0.0.1:{port}"

    @classmethod
    def tearDownClass(cls):
        cls.proc.kill()
        cls.proc.wait()
        cls.tmp.cleanup()

    def bench(self, name, *flags):
        path = os.path.join(self.tmp.name, name + ".json")
        subprocess.run([ARGS.bench_binary, "--server", self.server, "--no-progress", "--seed", "3",
                        "--result-json", path, *flags], check=True, stdout=subprocess.DEVNULL)
        with open(path) as f:
            return path, json.load(f)

    def plot(self, json_path, out_name):
        out = os.path.join(self.tmp.name, out_name)
        subprocess.run([sys.executable, SCRIPT, json_path, "-o", out], check=True)
        return out

    def test_one_run(self):
        json_path, result = self.bench("run", "--num-prompts", "12", "--input-len", "16",
                                       "--output-len", "8")
        run = result["runs"][0]
        self.assertEqual(run["completed"], 12)
        groups, root = svg_groups(self.plot(json_path, "run.svg"))
        charts = {
            "ttft_cdf": ("Time to first token", "TTFT (ms)", "fraction of requests"),
            "tpot_cdf": ("Time per output token (excl. 1st)", "TPOT (ms)", "fraction of requests"),
            "itl_cdf": ("Inter-token latency", "ITL (ms)", "fraction of token gaps"),
            "e2el_cdf": ("End-to-end latency", "E2E latency (ms)", "fraction of requests"),
            "throughput": ("Output throughput over time", "time since start (s)",
                           "output tokens/s (1 s buckets)"),
        }
        for gid, labels in charts.items():
            self.assertIn(gid, groups)
            self.assertLessEqual(set(labels), texts(groups[gid]), gid)
        self.assertIn("gqa-bench: tiny, " + self.server, texts(root))
        lat = latencies(run)
        self.assertEqual(len(lat["ttft"]), 12)
        self.assertEqual(len(lat["tpot"]), 12)  # 8 tokens each: all have a TPOT
        # A token gap needs two messages of one request: on a loaded machine the
        # server's stream writes may coalesce all 8 tokens of every request into
        # one message (seen in a CI run), leaving no gap to plot, so the ITL line
        # is checked only when there are gaps (on an idle machine, every run).
        for key, values in lat.items():
            if not values and key == "itl":
                continue
            line = groups[f"{key}_cdf/rate inf"]
            # A step line through n sorted values: n points and n - 1 risers.
            self.assertEqual(len(line_vertices(line)), 2 * len(values) - 1, key)
            self.assertIn("rate inf", texts(groups[f"{key}_cdf"]))  # the legend
        buckets = run["output_tokens_per_s"]
        self.assertEqual(sum(buckets), 12 * 8)  # the last bucket is a full second's count
        self.assertEqual(len(markers(groups["throughput/output tokens/s"])), len(buckets))

        png = self.plot(json_path, "run.png")
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_sweep(self):
        json_path, result = self.bench("sweep", "--num-prompts", "6", "--request-rates", "200,inf",
                                       "--input-len", "12", "--output-len", "6")
        runs = result["runs"]
        self.assertEqual([r["request_rate"] for r in runs], [200, "inf"])
        groups, _ = svg_groups(self.plot(json_path, "sweep.svg"))
        for gid, short, x_key in [("ttft_vs_request_tput", "TTFT", "request_throughput"),
                                  ("tpot_vs_request_tput", "TPOT", "request_throughput"),
                                  ("ttft_vs_output_tput", "TTFT", "output_throughput"),
                                  ("tpot_vs_output_tput", "TPOT", "output_throughput")]:
            self.assertIn(gid, groups)
            x_label = ("achieved requests/s" if x_key == "request_throughput"
                       else "achieved output tokens/s")
            self.assertLessEqual({x_label, f"{short} (ms)", "200", "inf"}, texts(groups[gid]))
            for stat in ("median", "p99"):
                points = markers(groups[f"{gid}/{stat} {short}"])
                self.assertEqual(len(points), 2)  # one per rate
                # Drawn in throughput order (SVG x grows to the right).
                xs_json = sorted(r[x_key] for r in runs)
                if xs_json[0] < xs_json[1]:
                    self.assertLess(points[0][0], points[1][0])
        for key, short in [("ttft", "TTFT"), ("tpot", "TPOT")]:
            self.assertIn(f"{short} per request rate", texts(groups[f"{key}_cdf"]))
            for run in runs:
                name = "rate " + ("inf" if run["request_rate"] == "inf" else "200")
                values = latencies(run)[key]
                self.assertEqual(len(values), 6)
                self.assertEqual(len(line_vertices(groups[f"{key}_cdf/{name}"])), 2 * 6 - 1)

    def test_not_a_result_file(self):
        path = os.path.join(self.tmp.name, "other.json")
        with open(path, "w") as f:
            json.dump({"runs": []}, f)
        p = subprocess.run([sys.executable, SCRIPT, path, "-o", path + ".svg"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("is not a gqa-bench --result-json file", p.stderr)
        self.assertFalse(os.path.exists(path + ".svg"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--bench-binary", required=True)
    ARGS, rest = ap.parse_known_args()
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        print(f"skipping: {e} (Debian: python3-matplotlib)", file=sys.stderr)
        sys.exit(77)
    unittest.main(argv=[sys.argv[0]] + rest)
