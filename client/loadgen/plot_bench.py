#!/usr/bin/env python3
"""Charts of a gqa-bench run, from its --result-json file (matplotlib).

  gqa-bench ... --result-json run.json
  python3 client/loadgen/plot_bench.py run.json -o run.svg   # or .png, .pdf

One run (one --request-rate): CDFs of TTFT, TPOT (excluding the first token),
ITL and end-to-end latency, and output tokens/s over time (1 s buckets).
A sweep (--request-rates): median and p99 TTFT / TPOT against the achieved
request and output-token throughput (one marker per rate), and the TTFT / TPOT
CDFs of every rate. Latencies are those of the successful requests, in ms, as
the summary table uses.

Needs matplotlib (Debian: python3-matplotlib, for /usr/bin/python3; or
`pip install matplotlib`). SVG output keeps text as text and is reproducible;
every axes and line carries an id ("ttft_cdf", "ttft_cdf/rate 8", ...) for
tools (tests/client/loadgen/plot_bench_test.py reads them).
"""
import argparse
import json
import math
import sys


def rate_name(rate):
    return "inf" if rate == "inf" else f"{rate:g}"


def latencies(run):
    """Per-request latencies (ms) of the successful requests, as gqa-bench's metrics use."""
    out = {"ttft": [], "tpot": [], "itl": [], "e2el": []}
    for r in run["requests"]:
        if r["status"] != "OK":
            continue
        out["e2el"].append(r["e2el_ms"])
        if r["ttft_ms"] is None:  # no token received
            continue
        out["ttft"].append(r["ttft_ms"])
        if r["output_len"] > 1:
            out["tpot"].append(r["tpot_ms"])
        out["itl"].extend(r["itl_ms"])
    return out


def cdf(values):
    """Step-line points of the empirical CDF: x sorted, y = fraction <= x."""
    xs = sorted(values)
    return xs, [(i + 1) / len(xs) for i in range(len(xs))]


def new_axes(fig, grid, index, gid, title, x_label, y_label):
    ax = fig.add_subplot(grid[index // 2, index % 2])
    ax.set_gid(gid)
    ax.set_title(title)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(True, alpha=0.3)
    return ax


def plot_cdf(ax, name, values):
    xs, ys = cdf(values)
    (line,) = ax.plot(xs, ys, drawstyle="steps-post", label=name)
    line.set_gid(f"{ax.get_gid()}/{name}")
    ax.set_ylim(0, 1.02)


def run_charts(fig, grid, run):
    lat = latencies(run)
    name = "rate " + rate_name(run["request_rate"])
    specs = [("ttft", "Time to first token", "TTFT (ms)", "fraction of requests"),
             ("tpot", "Time per output token (excl. 1st)", "TPOT (ms)", "fraction of requests"),
             ("itl", "Inter-token latency", "ITL (ms)", "fraction of token gaps"),
             ("e2el", "End-to-end latency", "E2E latency (ms)", "fraction of requests")]
    for i, (key, title, x_label, y_label) in enumerate(specs):
        ax = new_axes(fig, grid, i, f"{key}_cdf", title, x_label, y_label)
        plot_cdf(ax, name, lat[key])
        ax.legend(loc="lower right")
    ax = new_axes(fig, grid, 4, "throughput", "Output throughput over time", "time since start (s)",
                  "output tokens/s (1 s buckets)")
    # Bucket [i, i + 1) at its middle; the last may cover less than 1 s.
    buckets = run["output_tokens_per_s"]
    (line,) = ax.plot([i + 0.5 for i in range(len(buckets))], buckets, marker=".",
                      label="output tokens/s")
    line.set_gid("throughput/output tokens/s")
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower right")


def sweep_charts(fig, grid, runs):
    specs = [("ttft_vs_request_tput", "TTFT vs request throughput", "request_throughput",
              "achieved requests/s", "ttft_ms", "TTFT"),
             ("tpot_vs_request_tput", "TPOT vs request throughput", "request_throughput",
              "achieved requests/s", "tpot_ms", "TPOT"),
             ("ttft_vs_output_tput", "TTFT vs output throughput", "output_throughput",
              "achieved output tokens/s", "ttft_ms", "TTFT"),
             ("tpot_vs_output_tput", "TPOT vs output throughput", "output_throughput",
              "achieved output tokens/s", "tpot_ms", "TPOT")]
    for i, (gid, title, x_key, x_label, y_key, short) in enumerate(specs):
        ax = new_axes(fig, grid, i, gid, title, x_label, f"{short} (ms)")
        # A line through the points in x order, whatever order the rates came in.
        points = sorted(runs, key=lambda r: r[x_key])
        for stat in ("median", "p99"):
            name = f"{stat} {short}"
            (line,) = ax.plot([r[x_key] for r in points], [r[y_key][stat] for r in points],
                              marker="o", label=name)
            line.set_gid(f"{gid}/{name}")
        for r in points:  # which rate each marker is
            ax.annotate(rate_name(r["request_rate"]), (r[x_key], r[y_key]["p99"]),
                        textcoords="offset points", xytext=(3, 4), fontsize=7)
        ax.set_ylim(bottom=0)
        ax.legend(loc="best")
    for i, (key, short) in enumerate([("ttft", "TTFT"), ("tpot", "TPOT")]):
        ax = new_axes(fig, grid, 4 + i, f"{key}_cdf", f"{short} per request rate", f"{short} (ms)",
                      "fraction of requests")
        for run in runs:
            plot_cdf(ax, "rate " + rate_name(run["request_rate"]), latencies(run)[key])
        ax.legend(loc="lower right")


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams.update({
        "svg.fonttype": "none",        # text stays text: searchable, small
        "svg.hashsalt": "gqa-bench",   # stable element ids: the same input, the same file
        "path.simplify": False,        # every point of every line is drawn
    })
    import matplotlib.pyplot as plt

    runs = result["runs"]
    num_charts = 5 if len(runs) == 1 else 6
    rows = math.ceil(num_charts / 2)
    fig = plt.figure(figsize=(12, 4 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, 2)
    if len(runs) == 1:
        run_charts(fig, grid, runs[0])
    else:
        sweep_charts(fig, grid, runs)
    model = result.get("model_info", {}).get("name")
    fig.suptitle(f"gqa-bench{': ' + model if model else ''}, {result['config']['server']}")
    fig.savefig(path, metadata={"Date": None} if path.endswith(".svg") else None)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result_json", help="gqa-bench --result-json file")
    ap.add_argument("-o", "--output", required=True,
                    help="image to write; the format from its extension (.svg, .png, .pdf)")
    args = ap.parse_args(argv)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("plot_bench.py: needs matplotlib (Debian: apt-get install python3-matplotlib, "
              "then run it with /usr/bin/python3; or pip install matplotlib)", file=sys.stderr)
        return 2
    with open(args.result_json) as f:
        result = json.load(f)
    if result.get("tool") != "gqa-bench" or not result.get("runs"):
        print(f"plot_bench.py: {args.result_json} is not a gqa-bench --result-json file",
              file=sys.stderr)
        return 2
    plot(result, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
