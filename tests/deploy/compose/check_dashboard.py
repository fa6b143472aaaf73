#!/usr/bin/env python3
"""The Grafana dashboard's queries work against the real gqa-server.

Static part (always, --static-only stops there): the dashboard JSON is
structurally sane: unique panel ids, a gridPos on every panel and no two
overlapping, every panel and target on the $datasource variable, refIds
unique per panel, every $variable defined.

Live part: starts the built gqa-server (demo model, ports picked by the
kernel) and a real `prometheus` whose config is deploy/compose's prometheus.yml
with the target pointed at that server, a 1 s scrape interval and its rule
files; sends traffic with the built gqa-client (generate, stream, and one
invalid request, which the server counts as a rejection); waits until
Prometheus has scraped the final counters (polling with a deadline); then, for
every target expression of the dashboard and every variable assignment:
  * Prometheus' /api/v1/query accepts it (status success) and returns a
    non-empty result (every panel shows data after that traffic);
  * every metric name it references is a family the server's /metrics
    declares (`# TYPE` lines; F_bucket/_sum/_count for a histogram F), or
    Prometheus' own `up`.
Also: the $job/$instance variable queries list the server, every exported
gqa_ family appears on some panel, key values are exact or positive, every
rule evaluates with health "ok", and no alert fires on a healthy server.

Usage: check_dashboard.py --dashboard JSON [--static-only]
       [--server-binary P --client-binary P --prometheus-config YML --work-dir D]
Exit 77 (a CTest skip) without a `prometheus` binary ($GQA_PROMETHEUS_BIN
overrides the PATH lookup) or without PyYAML.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promql_names  # noqa: E402

SKIP = 77
DEADLINE_S = 120  # bound on each wait for an external process
JOB = "gqa-server"
# What Grafana would substitute; the window only has to hold >= 2 scrapes at 1 s.
RATE_INTERVAL = "30s"
GRAFANA_GLOBALS = {"__rate_interval": RATE_INTERVAL, "__interval": "5s", "__range": "30m",
                   "__range_s": "1800", "__interval_ms": "5000"}
PROMETHEUS_OWN = {"up"}  # series Prometheus adds to every scrape target
VAR_REF = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
PANEL_TYPES = {"row", "timeseries", "stat", "gauge", "bargauge", "table", "heatmap"}


class Failures(list):
    def check(self, ok, message):
        if not ok:
            self.append(message)
        return ok


# ---------------------------------------------------------------- static

def all_panels(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # a collapsed row's children


def check_structure(d, fail):
    fail.check(30 <= d.get("schemaVersion", 0) <= 41, f"schemaVersion {d.get('schemaVersion')}")
    fail.check(d.get("uid") and d.get("title"), "dashboard needs a uid and a title")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource", {})
    fail.check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
               "templating needs a `datasource` variable of type datasource, query prometheus")
    ds_refs = ("${datasource}", "$datasource")
    for name, v in variables.items():
        if v.get("type") == "query":
            fail.check(v.get("datasource", {}).get("uid") in ds_refs,
                       f"variable {name}: datasource must be $datasource")
    seen_ids, cells = {}, []
    for p in all_panels(d):
        where = f"panel {p.get('id')} '{p.get('title')}'"
        pid = p.get("id")
        fail.check(isinstance(pid, int) and pid not in seen_ids, f"{where}: id missing or reused")
        seen_ids[pid] = p
        fail.check(p.get("type") in PANEL_TYPES, f"{where}: unexpected type {p.get('type')}")
        fail.check(p.get("title"), f"{where}: no title")
        g = p.get("gridPos", {})
        if fail.check(all(isinstance(g.get(k), int) for k in "xywh"), f"{where}: gridPos {g}"):
            fail.check(g["x"] >= 0 and g["w"] > 0 and g["h"] > 0 and g["x"] + g["w"] <= 24,
                       f"{where}: gridPos {g} outside the 24-column grid")
            for other, og in cells:
                if (g["x"] < og["x"] + og["w"] and og["x"] < g["x"] + g["w"] and
                        g["y"] < og["y"] + og["h"] and og["y"] < g["y"] + g["h"]):
                    fail.append(f"{where}: gridPos overlaps {other}")
            cells.append((where, g))
        if p.get("type") == "row":
            continue
        fail.check(p.get("datasource", {}).get("uid") in ds_refs and
                   p.get("datasource", {}).get("type") == "prometheus",
                   f"{where}: datasource must be the prometheus $datasource")
        targets = p.get("targets", [])
        fail.check(targets, f"{where}: no targets")
        ref_ids = [t.get("refId") for t in targets]
        fail.check(all(ref_ids) and len(set(ref_ids)) == len(ref_ids),
                   f"{where}: refIds missing or repeated: {ref_ids}")
        for t in targets:
            fail.check(t.get("expr", "").strip(), f"{where} {t.get('refId')}: empty expr")
            fail.check(t.get("datasource", p.get("datasource")) == p.get("datasource"),
                       f"{where} {t.get('refId')}: target datasource differs from the panel's")
            for m in VAR_REF.finditer(t.get("expr", "")):
                name = next(g for g in m.groups() if g)
                fail.check(name in variables or name in GRAFANA_GLOBALS,
                           f"{where} {t.get('refId')}: undefined variable ${name}")


def targets_of(d):
    """(panel title, refId, expr) of every query target."""
    return [(p["title"], t["refId"], t["expr"]) for p in all_panels(d)
            for t in p.get("targets", []) if t.get("expr")]


def substitute(expr, values):
    def repl(m):
        name = next(g for g in m.groups() if g)
        if name not in values:
            raise KeyError(f"no value for ${name}")
        return values[name]
    return VAR_REF.sub(repl, expr)


# ---------------------------------------------------------------- processes

def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def poll(what, fn, timeout=DEADLINE_S):
    """Calls fn until it returns a truthy value (polling an external process)."""
    end = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


class LogReader:
    """Drains a child's output on a thread; lets the caller wait for a line."""

    def __init__(self, stream):
        self.lines, self.cond = [], threading.Condition()
        threading.Thread(target=self._run, args=(stream,), daemon=True).start()

    def _run(self, stream):
        for line in stream:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # EOF
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=DEADLINE_S):
        rx = re.compile(pattern)
        with self.cond:
            ok = self.cond.wait_for(lambda: None in self.lines or any(
                rx.search(line) for line in self.lines if line), timeout)
            for line in self.lines:
                if line and rx.search(line):
                    return rx.search(line)
        raise AssertionError(f"no line matching {pattern!r} ({'EOF' if ok else 'timeout'}):\n"
                             + self.text())

    def text(self):
        with self.cond:
            return "".join(line for line in self.lines if line)


def start_server(binary):
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0", "--threads", "2",
         "--http-port", "-1", "--max-num-seqs", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = LogReader(proc.stderr)
    grpc_port = int(log.wait_for(r"gRPC listening on 127\.0\.0\.1:(\d+)").group(1))
    metrics_port = int(log.wait_for(r"metrics at http://127\.0\.0\.1:(\d+)/metrics").group(1))
    log.wait_for(r"health SERVING")
    return proc, log, grpc_port, metrics_port


def prometheus_config(deploy_config, target, work_dir):
    """deploy/compose's prometheus.yml, aimed at `target`, scraping every second."""
    import yaml
    with open(deploy_config) as f:
        cfg = yaml.safe_load(f)
    cfg["global"].update({"scrape_interval": "1s", "scrape_timeout": "1s",
                          "evaluation_interval": "1s"})
    base = os.path.dirname(os.path.abspath(deploy_config))
    cfg["rule_files"] = [os.path.join(base, r) for r in cfg.get("rule_files", [])]
    jobs = [j for j in cfg["scrape_configs"] if j["job_name"] == JOB]
    assert len(jobs) == 1, f"{deploy_config}: no scrape job named {JOB}"
    jobs[0]["static_configs"] = [{"targets": [target], "labels": sc.get("labels", {})}
                                 for sc in jobs[0]["static_configs"]]
    cfg["scrape_configs"] = jobs
    path = os.path.join(work_dir, "prometheus.yml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    return path, cfg["rule_files"]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_prometheus(binary, config, work_dir):
    """A Prometheus answering its API; retried when its port was taken meanwhile."""
    for attempt in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [binary, f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(work_dir, f'tsdb{attempt}')}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        log = LogReader(proc.stderr)

        def ready():
            if proc.poll() is not None:
                return "exited"
            try:
                return http_get(f"http://127.0.0.1:{port}/-/ready").strip() and "ready"
            except (urllib.error.URLError, OSError):
                return None
        if poll("prometheus to start", ready) == "ready":
            return proc, log, port
        proc.wait()
    raise AssertionError("prometheus exited on 3 ports:\n" + log.text())


class PromApi:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/api/v1/"

    def get(self, path, **params):
        url = self.base + path + "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            body = http_get(url)
        except urllib.error.HTTPError as e:
            body = e.read().decode()
        return json.loads(body)

    def query(self, expr, at=None):
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.get("query", **params)

    def values(self, expr, at=None):
        r = self.query(expr, at)
        if r.get("status") != "success":
            return None
        return [float(s["value"][1]) for s in r["data"]["result"]]


def run_client(client, grpc_port, *args):
    return subprocess.run([client, "--server", f"127.0.0.1:{grpc_port}", "--deadline", "120",
                           *args], capture_output=True, text=True, timeout=DEADLINE_S)


def scraped_value(metrics_text, series):
    for line in metrics_text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[1])
    raise AssertionError(f"no sample {series} in /metrics")


# ---------------------------------------------------------------- live checks

def send_traffic(client, grpc_port, api, fail):
    calls = [subprocess.Popen(
        [client, "--server", f"127.0.0.1:{grpc_port}", "--deadline", "120", "generate",
         "--prompt", f"Request {i}: once upon a time", "--max-tokens", "24", "--ignore-eos",
         "--seed", str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)]  # 4 at once against --max-num-seqs 2: some wait
    for c in calls:
        out, err = c.communicate(timeout=DEADLINE_S)
        fail.check(c.returncode == 0, f"gqa-client generate failed: {err}")
    r = run_client(client, grpc_port, "stream", "--prompt", "streamed", "--max-tokens", "8",
                   "--ignore-eos")
    fail.check(r.returncode == 0, f"gqa-client stream failed: {r.stderr}")
    # Last, so the rejections are inside every rate window: top_p > 1 is refused.
    # Twice, a scrape apart: the first only creates the {code="INVALID_ARGUMENT"}
    # series (at 1), which rate() cannot tell from an old counter; the second
    # is an increase.
    for n in (1, 2):
        r = run_client(client, grpc_port, "generate", "--prompt", "x", "--top-p", "1.5")
        fail.check(r.returncode != 0 and "INVALID_ARGUMENT" in r.stderr,
                   f"expected INVALID_ARGUMENT for top_p 1.5, got rc {r.returncode}: {r.stderr}")
        poll(f"Prometheus to scrape rejection {n}", lambda: api.values(
            f'gqa_requests_rejected_total{{job="{JOB}", code="INVALID_ARGUMENT"}}') == [n])


def check_queries(dashboard, api, families, at, instance, fail):
    """Every target under every variable assignment; returns how many queries ran."""
    escaped = re.sub(r"([.:])", lambda m: "\\\\." if m.group(1) == "." else ":", instance)
    assignments = [  # instance "All" (regex), and one instance as Grafana escapes it
        dict(GRAFANA_GLOBALS, job=JOB, instance=".*"),
        dict(GRAFANA_GLOBALS, job=JOB, instance=f"({escaped})"),
    ]
    used_families, n = set(), 0
    for title, ref, expr in targets_of(dashboard):
        where = f"'{title}' {ref}: {expr}"
        for name in promql_names.metric_names(expr):
            family = promql_names.family_of(name, families)
            if fail.check(family or name in PROMETHEUS_OWN,
                          f"{where}: {name} is not a metric gqa-server exports"):
                used_families.add(family)
        for values in assignments:
            try:
                q = substitute(expr, values)
            except KeyError as e:
                fail.append(f"{where}: {e}")
                continue
            r = api.query(q, at)
            n += 1
            if fail.check(r.get("status") == "success",
                          f"{where}\n  as {q}\n  -> {r.get('errorType')}: {r.get('error')}"):
                fail.check(r["data"]["result"], f"{where}\n  as {q}\n  -> empty result")
    unused = sorted(f for f in families if f.startswith("gqa_") and f not in used_families)
    fail.check(not unused, f"exported families on no dashboard panel: {unused}")
    return n


def check_values(api, at, metrics_text, fail):
    """A few exact or positive values, as the dashboard's panels compute them."""
    sel = f'{{job="{JOB}"}}'
    expect = {
        f"up{sel}": lambda v: v == [1.0],
        f"gqa_model_info{sel}": lambda v: v == [1.0],
        f"sum(rate(gqa_generation_tokens_total{sel}[{RATE_INTERVAL}]))": lambda v: v[0] > 0,
        f"sum(rate(gqa_prompt_tokens_total{sel}[{RATE_INTERVAL}]))": lambda v: v[0] > 0,
        f'sum by (code) (rate(gqa_requests_rejected_total{{job="{JOB}", code="INVALID_ARGUMENT"}}'
        f"[{RATE_INTERVAL}]))": lambda v: len(v) == 1 and v[0] > 0,
        f"sum(gqa_kv_cache_blocks_total{sel})":
            lambda v: v == [scraped_value(metrics_text, "gqa_kv_cache_blocks_total")] and v[0] > 0,
        f'sum by (kind) (gqa_memory_bytes{{job="{JOB}", kind="weights"}})': lambda v: v[0] > 0,
        f"sum(gqa_requests_running{sel}) + sum(gqa_requests_waiting{sel})": lambda v: v == [0.0],
    }
    for expr, ok in expect.items():
        v = api.values(expr, at)
        fail.check(v and ok(v), f"{expr} = {v}")


def check_variables(dashboard, api, instance, fail):
    for v in dashboard["templating"]["list"]:
        if v.get("type") != "query":
            continue
        query = v["query"] if isinstance(v["query"], str) else v["query"].get("query", "")
        fail.check(v.get("definition", query) == query,
                   f"variable {v['name']}: definition differs from query")
        m = re.fullmatch(r"\s*label_values\((.+),\s*(\w+)\)\s*", query)
        if not fail.check(m, f"variable {v['name']}: unsupported query {query}"):
            continue
        match = substitute(m.group(1), {"job": JOB})
        r = api.get(f"label/{m.group(2)}/values", **{"match[]": match})
        want = {"job": JOB, "instance": instance}.get(v["name"])
        fail.check(r.get("status") == "success" and want in r["data"],
                   f"variable {v['name']} ({query}) lists {r.get('data')}, not {want}")


def check_rules(api, rule_files, families, fail):
    import yaml
    recorded, n = set(), 0
    groups = [g for f in rule_files for path in sorted(glob.glob(f))
              for g in yaml.safe_load(open(path))["groups"]]
    for g in groups:
        recorded.update(r["record"] for r in g["rules"] if "record" in r)
    for g in groups:
        for rule in g["rules"]:
            n += 1
            for name in promql_names.metric_names(rule["expr"]):
                fail.check(promql_names.family_of(name, families) or name in recorded
                           or name in PROMETHEUS_OWN,
                           f"rule {rule.get('record') or rule.get('alert')}: {name} not exported")
    # Every rule evaluated at least once, without error; recordings have data.
    def evaluated():
        r = api.get("rules")
        rules = [x for grp in r.get("data", {}).get("groups", []) for x in grp["rules"]]
        done = len(rules) == n and all(not x["lastEvaluation"].startswith("0001") for x in rules)
        return done and rules
    for x in poll("every rule to be evaluated", evaluated):
        fail.check(x["health"] == "ok", f"rule {x['name']}: {x['health']} {x.get('lastError')}")
    for name in sorted(recorded):
        poll(f"recording rule {name} to have data", lambda: api.values(name))
    firing = [a for a in api.get("alerts")["data"]["alerts"] if a["state"] == "firing"]
    fail.check(not firing, f"alerts firing on a healthy server: {firing}")
    return n


def live(args, dashboard, fail):
    prometheus = os.environ.get("GQA_PROMETHEUS_BIN") or shutil.which("prometheus")
    if not prometheus or not os.access(prometheus, os.X_OK):
        print("skipping: no prometheus binary (Debian package `prometheus`)")
        return SKIP
    os.makedirs(args.work_dir, exist_ok=True)
    work = args.work_dir
    for old in glob.glob(os.path.join(work, "tsdb*")):
        shutil.rmtree(old)
    server, server_log, grpc_port, metrics_port = start_server(args.server_binary)
    prom = None
    try:
        instance = f"127.0.0.1:{metrics_port}"
        families = promql_names.scrape_families(
            http_get(f"http://{instance}/metrics"))
        fail.check(len(families) >= 20, f"only {len(families)} families on /metrics")
        config, rule_files = prometheus_config(args.prometheus_config, instance, work)
        prom, prom_log, prom_port = start_prometheus(prometheus, config, work)
        api = PromApi(prom_port)
        poll("3 scrapes of gqa-server", lambda: (api.values(
            f'count_over_time(up{{job="{JOB}"}}[1m])') or [0])[0] >= 3)

        send_traffic(args.client_binary, grpc_port, api, fail)
        metrics_text = http_get(f"http://{instance}/metrics")  # idle now: final values
        generated = scraped_value(metrics_text, "gqa_generation_tokens_total")
        fail.check(generated >= 4 * 24 + 8, f"{generated} tokens generated")
        poll("Prometheus to scrape the final counters", lambda: api.values(
            f'gqa_generation_tokens_total{{job="{JOB}"}}') == [generated])
        at = time.time()  # every query is evaluated here, however long the checks take

        n_queries = check_queries(dashboard, api, families, at, instance, fail)
        check_values(api, at, metrics_text, fail)
        check_variables(dashboard, api, instance, fail)
        n_rules = check_rules(api, rule_files, families, fail)
        print(f"{len(targets_of(dashboard))} dashboard expressions, {n_queries} queries, "
              f"{n_rules} rules checked against {len(families)} exported families")
    finally:
        for proc in (prom, server):
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
    if fail:
        print("gqa-server log:\n" + server_log.text())
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dashboard", required=True)
    parser.add_argument("--static-only", action="store_true")
    parser.add_argument("--server-binary")
    parser.add_argument("--client-binary")
    parser.add_argument("--prometheus-config")
    parser.add_argument("--work-dir")
    args = parser.parse_args()
    promql_names.self_test()
    with open(args.dashboard) as f:
        dashboard = json.load(f)
    fail = Failures()
    check_structure(dashboard, fail)
    rc = 0
    if not args.static_only and not fail:
        try:
            import yaml  # noqa: F401
        except ImportError:
            print("skipping: no PyYAML (Debian package python3-yaml)")
            return SKIP
        rc = live(args, dashboard, fail)
        if rc == SKIP:
            return SKIP
    for f in fail:
        print("FAIL:", f)
    if fail:
        return 1
    print(f"ok: {len(targets_of(dashboard))} expressions in "
          f"{sum(1 for _ in all_panels(dashboard))} panels" +
          (" (structure only)" if args.static_only else ""))
    return rc


if __name__ == "__main__":
    sys.exit(main())
