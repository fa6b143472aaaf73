#!/usr/bin/env python3
"""deploy/compose's files agree with each other, with the repo and with gqa-server.

Parses docker-compose.yml and docker-compose.gpu.yml with PyYAML and checks:
the three services, their published ports against gqa-server's flags, the
scrape target and the port the image's HEALTHCHECK probes, the build
context/target against the repo's Dockerfile (when it exists), every bind-mounted path exists in the repo, the container paths
Prometheus and Grafana read (config file, rule glob, provisioning, dashboards,
home dashboard) are the ones mounted, the datasource points at the prometheus
service, images are pinned, named volumes are declared, the GPU override
reserves NVIDIA GPUs with the cuda target, and every gqa-server flag used is
one `gqa-server --help` lists. Finally `docker compose config` (or
docker-compose v1's) validates both files when such a CLI is installed; that
part is skipped, with a note, otherwise: neither needs a Docker daemon.

Usage: check_compose.py --compose-dir DIR [--server-binary PATH]
Exit 77 (a CTest skip) without PyYAML.
"""
import argparse
import fnmatch
import os
import posixpath
import re
import shutil
import subprocess
import sys

SKIP = 77
SERVER = "gqa-server"


class Failures(list):
    def check(self, ok, message):
        if not ok:
            self.append(message)
        return ok


def load(path):
    import yaml
    with open(path) as f:
        return yaml.safe_load(f)


def flag_value(command, flag):
    for i, arg in enumerate(command):
        if arg == flag and i + 1 < len(command):
            return command[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def published(service):
    """{container port: host port} of a service's short-syntax `ports`."""
    out = {}
    for p in service.get("ports", []):
        host, _, container = str(p).rpartition(":")
        out[int(container.split("/")[0])] = int(host.rsplit(":", 1)[-1]) if host else None
    return out


def bind_mounts(service, compose_dir, fail, name):
    """{container path: absolute host path} of the service's bind mounts."""
    mounts = {}
    for v in service.get("volumes", []):
        source, target = str(v).split(":")[:2]
        if source.startswith(".") or source.startswith("/"):
            host = os.path.normpath(os.path.join(compose_dir, source))
            fail.check(os.path.exists(host), f"{name}: volume source {source} does not exist")
            mounts[target] = host
    return mounts


def host_path(container_path, mounts):
    """Where a container path lives in the repo, through the bind mounts."""
    for target, host in sorted(mounts.items(), key=lambda m: -len(m[0])):
        if container_path == target:
            return host
        if container_path.startswith(target.rstrip("/") + "/"):
            return os.path.join(host, posixpath.relpath(container_path, target))
    return None


def check_server(compose, compose_dir, repo, help_text, fail):
    s = compose["services"][SERVER]
    build = s.get("build", {})
    fail.check(os.path.normpath(os.path.join(compose_dir, build.get("context", ""))) == repo,
               f"{SERVER}: build context {build.get('context')} is not the repo root")
    fail.check(build.get("target") == "cpu", f"{SERVER}: build target should be cpu")
    dockerfile = os.path.join(repo, build.get("dockerfile", "Dockerfile"))
    if os.path.exists(dockerfile):
        stages = re.findall(r"(?im)^\s*FROM\s+\S+\s+AS\s+(\S+)", open(dockerfile).read())
        fail.check({"cpu", "cuda"} <= set(stages),
                   f"{dockerfile}: stages {stages} lack cpu and cuda (compose targets)")
    else:
        print(f"note: {dockerfile} not there yet: build targets not checked")
    command = s.get("command", [])
    fail.check(isinstance(command, list), f"{SERVER}: command should be a list")
    grpc_port = int(flag_value(command, "--port") or 50051)
    if os.path.exists(dockerfile):  # the inherited HEALTHCHECK asks a fixed port
        probe = re.search(r"(?s)HEALTHCHECK.*?127\.0\.0\.1:(\d+)", open(dockerfile).read())
        fail.check(probe and int(probe.group(1)) == grpc_port,
                   f"{SERVER}: --port {grpc_port} is not the port the image's HEALTHCHECK asks")
    metrics_port = int(flag_value(command, "--metrics-port") or 9400)
    fail.check(flag_value(command, "--host") in (None, "0.0.0.0"),
               f"{SERVER}: --host must be 0.0.0.0 to be reachable from other containers")
    ports = published(s)
    fail.check(ports.get(grpc_port) == 50051 and ports.get(metrics_port) == 9400,
               f"{SERVER}: ports {s.get('ports')} do not publish gRPC {grpc_port} as 50051 "
               f"and metrics {metrics_port} as 9400")
    fail.check("healthcheck" not in s, f"{SERVER}: should inherit the image's HEALTHCHECK")
    check_flags(command, help_text, f"{SERVER} command", fail)
    return metrics_port


def check_flags(command, help_text, where, fail):
    if help_text is None:
        return
    for arg in command:
        if arg.startswith("--"):
            flag = arg.split("=", 1)[0]
            fail.check(re.search(re.escape(flag) + r"\b", help_text),
                       f"{where}: {flag} is not a gqa-server flag (gqa-server --help)")


def check_prometheus(compose, compose_dir, metrics_port, fail):
    s = compose["services"]["prometheus"]
    mounts = bind_mounts(s, compose_dir, fail, "prometheus")
    config_path = next((a.split("=", 1)[1] for a in s.get("command", [])
                        if a.startswith("--config.file=")), "/etc/prometheus/prometheus.yml")
    local = host_path(config_path, mounts)
    if not fail.check(local and os.path.isfile(local),
                      f"prometheus: --config.file {config_path} is not a mounted file"):
        return
    cfg = load(local)
    for pattern in cfg.get("rule_files", []):
        in_container = posixpath.join(posixpath.dirname(config_path), pattern)
        local_glob = host_path(in_container, mounts)
        matches = local_glob and [f for f in os.listdir(os.path.dirname(local_glob))
                                  if fnmatch.fnmatch(f, os.path.basename(local_glob))]
        fail.check(matches, f"prometheus: rule_files {pattern} matches no mounted file")
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    targets = [t for sc in jobs.get(SERVER, {}).get("static_configs", [])
               for t in sc["targets"]]
    fail.check(targets == [f"{SERVER}:{metrics_port}"],
               f"prometheus.yml: job {SERVER} scrapes {targets}, not {SERVER}:{metrics_port}")
    fail.check(cfg["global"].get("scrape_interval") == "5s", "prometheus.yml: scrape every 5s")
    fail.check(9090 in published(s), "prometheus: port 9090 not published")
    return cfg


def check_grafana(compose, compose_dir, fail):
    s = compose["services"]["grafana"]
    mounts = bind_mounts(s, compose_dir, fail, "grafana")
    env = s.get("environment", {})
    fail.check(published(s).get(3000) == 3000, "grafana: port 3000 not published")
    fail.check(str(env.get("GF_AUTH_ANONYMOUS_ENABLED")).lower() == "true" and
               env.get("GF_AUTH_ANONYMOUS_ORG_ROLE") == "Viewer",
               "grafana: anonymous Viewer access expected")
    provisioning = host_path("/etc/grafana/provisioning/datasources/x", mounts)
    if fail.check(provisioning, "grafana: datasource provisioning not mounted"):
        sources = [d for f in sorted(os.listdir(os.path.dirname(provisioning)))
                   if f.endswith((".yaml", ".yml"))
                   for d in load(os.path.join(os.path.dirname(provisioning), f))["datasources"]]
        prom = [d for d in sources if d["type"] == "prometheus"]
        fail.check(len(prom) == 1 and prom[0]["url"] == "http://prometheus:9090",
                   f"grafana: datasource should be http://prometheus:9090, got {prom}")
    providers_file = host_path("/etc/grafana/provisioning/dashboards/x", mounts)
    if fail.check(providers_file, "grafana: dashboard provisioning not mounted"):
        d = os.path.dirname(providers_file)
        providers = [p for f in sorted(os.listdir(d)) if f.endswith((".yaml", ".yml"))
                     for p in load(os.path.join(d, f))["providers"]]
        for p in providers:
            local = host_path(p["options"]["path"], mounts)
            fail.check(local and os.path.isdir(local) and
                       any(f.endswith(".json") for f in os.listdir(local)),
                       f"grafana: provider path {p['options']['path']} has no mounted .json")
    home = env.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    local = home and host_path(home, mounts)
    fail.check(local and os.path.isfile(local), f"grafana: home dashboard {home} not mounted")


def check_gpu_override(gpu, help_text, fail):
    s = gpu.get("services", {}).get(SERVER, {})
    fail.check(s.get("build", {}).get("target") == "cuda", "gpu override: build target cuda")
    devices = s.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
    fail.check(any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", [])
                   for d in devices), "gpu override: no nvidia gpu device reservation")
    check_flags(s.get("command", []), help_text, "gpu override command", fail)


def docker_compose_cli():
    """argv prefix of a compose CLI that runs here, or None."""
    if shutil.which("docker") and subprocess.run(
            ["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose") and subprocess.run(
            ["docker-compose", "version"], capture_output=True).returncode == 0:
        return ["docker-compose"]
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compose-dir", required=True)
    parser.add_argument("--server-binary")
    args = parser.parse_args()
    try:
        import yaml  # noqa: F401
    except ImportError:
        print("skipping: no PyYAML (Debian package python3-yaml)")
        return SKIP
    compose_dir = os.path.abspath(args.compose_dir)
    repo = os.path.normpath(os.path.join(compose_dir, "..", ".."))
    base_file = os.path.join(compose_dir, "docker-compose.yml")
    gpu_file = os.path.join(compose_dir, "docker-compose.gpu.yml")
    help_text = None
    if args.server_binary:
        help_text = subprocess.run([args.server_binary, "--help"], capture_output=True,
                                   text=True, timeout=60).stdout
    fail = Failures()
    compose = load(base_file)
    services = compose.get("services", {})
    fail.check({SERVER, "prometheus", "grafana"} <= set(services),
               f"services {sorted(services)} lack gqa-server, prometheus or grafana")
    if not fail:
        metrics_port = check_server(compose, compose_dir, repo, help_text, fail)
        check_prometheus(compose, compose_dir, metrics_port, fail)
        check_grafana(compose, compose_dir, fail)
        for name, s in services.items():
            image = s.get("image", "")
            tag = image.rpartition(":")[2] if ":" in image else ""
            fail.check("build" in s or (tag and tag != "latest" and re.search(r"\d", tag)),
                       f"{name}: image {image!r} is not pinned to a version")
            for v in s.get("volumes", []):
                source = str(v).split(":")[0]
                if not source.startswith((".", "/")):
                    fail.check(source in (compose.get("volumes") or {}),
                               f"{name}: named volume {source} not declared")
    check_gpu_override(load(gpu_file), help_text, fail)

    cli = docker_compose_cli()
    if cli:
        for files in ([base_file], [base_file, gpu_file]):
            argv = cli + [a for f in files for a in ("-f", f)] + ["config", "-q"]
            r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
            fail.check(r.returncode == 0, f"{' '.join(argv)}: {r.stderr}")
        print(f"{' '.join(cli)} config: checked")
    else:
        print("note: no `docker compose` / `docker-compose` CLI: compose schema not validated")
    for f in fail:
        print("FAIL:", f)
    if not fail:
        print("ok: compose files consistent")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
