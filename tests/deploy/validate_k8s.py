#!/usr/bin/env python3
"""Validates deploy/k8s/: every manifest against the Kubernetes JSON schemas, and
the manifests against each other and against gqa-server itself.

  - schemas: kubernetes-validate (PyPI; bundles the schemas, runs offline) in
    strict mode (unknown fields are errors) for a pinned Kubernetes version;
    installed in a venv under the build dir. Exit 77 (skip) without PyPI.
  - ServiceMonitor is the Prometheus Operator's CRD, in no Kubernetes schema:
    its structure is checked here (apiVersion, kind, known fields, a selector
    that matches the Service's labels, endpoint ports the Service names).
  - kustomization.yaml lists exactly the manifests here; `kubectl kustomize`
    renders it, when kubectl is installed.
  - cross-checks: probe ports == containerPort == the server's default ports;
    probes use grpc.health.v1 on a service the server reports; Service, PDB
    and ServiceMonitor selectors match the pods; the HPA targets the Deployment
    on a gauge the server exports; terminationGracePeriodSeconds covers the
    preStop sleep + --drain-timeout + the server's shutdown grace, and the
    liveness probe cannot fail within it; the pod runs as the image's USER;
    every --flag in the container args is gqa-server's (with --server-binary:
    the binary itself parses the args, and its /metrics has the HPA's metric).
  - deploy/k8s/inference-gateway (InferencePool, InferenceObjective, the
    endpoint picker): tests/deploy/inference_gateway_check.py says what.
Exit 0 pass, 1 fail.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploy_test_util import (Checker, RunningServer, reexec_in_venv, server_defaults,  # noqa: E402
                              SERVER_FLAG_SOURCES, server_flags, source_constant, source_text)
import inference_gateway_check  # noqa: E402

KUBERNETES_VERSION = "1.30.0"
REQUIREMENTS = ["kubernetes-validate==1.37.0"]
SERVICE_MONITOR_API = "monitoring.coreos.com/v1"
SERVICE_MONITOR_SPEC_FIELDS = {"selector", "endpoints", "namespaceSelector", "jobLabel",
                               "targetLabels", "podTargetLabels", "sampleLimit"}
SERVICE_MONITOR_ENDPOINT_FIELDS = {"port", "targetPort", "path", "scheme", "interval",
                                   "scrapeTimeout", "honorLabels", "honorTimestamps",
                                   "relabelings", "metricRelabelings", "params"}


def ident(doc):
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def load_manifests(directory, yaml):
    """{file name: [documents]} for every *.yaml but the kustomization."""
    manifests = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.yaml"))):
        name = os.path.basename(path)
        if name == "kustomization.yaml":
            continue
        with open(path, encoding="utf-8") as f:
            manifests[name] = [d for d in yaml.safe_load_all(f) if d is not None]
    return manifests


def check_schema(c, name, doc):
    import kubernetes_validate
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        c.check(True, "")
    except kubernetes_validate.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        c.check(False, f"{name}: {ident(doc)} fails the Kubernetes {KUBERNETES_VERSION} "
                       f"schema at {where or '(top)'}: {e.message}")
    except kubernetes_validate.SchemaNotFoundError as e:
        c.check(False, f"{name}: {ident(doc)}: {e.message}")


def check_schemas(c, manifests):
    for name, docs in manifests.items():
        for doc in docs:
            if doc.get("apiVersion", "").startswith("monitoring.coreos.com/"):
                continue  # a CRD: check_service_monitor
            check_schema(c, name, doc)


def check_kustomization(c, directory, manifests, yaml):
    with open(os.path.join(directory, "kustomization.yaml"), encoding="utf-8") as f:
        k = yaml.safe_load(f)
    c.check(k.get("apiVersion") == "kustomize.config.k8s.io/v1beta1"
            and k.get("kind") == "Kustomization", "kustomization.yaml is a Kustomization")
    c.check(sorted(k.get("resources", [])) == sorted(manifests),
            f"kustomization.yaml lists exactly the manifests here: {sorted(manifests)} "
            f"(lists {sorted(k.get('resources', []))})")
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("note: no kubectl: the kustomization is not rendered")
        return k
    r = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True,
                       timeout=120)
    if c.check(r.returncode == 0, f"kubectl kustomize renders: {r.stderr.strip()}"):
        rendered = sorted(ident(d) for d in yaml.safe_load_all(r.stdout) if d)
        files = sorted(ident(d) for docs in manifests.values() for d in docs)
        c.check(rendered == files, f"kubectl kustomize renders {rendered}, the files hold {files}")
    return k


def one(c, manifests, kind):
    found = [d for docs in manifests.values() for d in docs if d.get("kind") == kind]
    c.check(len(found) == 1, f"exactly one {kind} (found {len(found)})")
    return found[0] if found else None


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def parse_args_list(args):
    """Container args -> [(flag, value or None)] for --flag VALUE, --flag=VALUE, --switch."""
    out, i = [], 0
    while i < len(args):
        a = str(args[i])
        if a.startswith("--"):
            if "=" in a:
                flag, value = a[2:].split("=", 1)
            elif i + 1 < len(args) and not str(args[i + 1]).startswith("--"):
                flag, value = a[2:], str(args[i + 1])
                i += 1
            else:
                flag, value = a[2:], None
            out.append((flag, value))
        i += 1
    return out


def check_deployment(c, repo, dep, k, server_binary):
    defaults = server_defaults(repo)
    pod = dep["spec"]["template"]
    labels = pod["metadata"].get("labels", {})
    spec = pod["spec"]
    c.check(matches(dep["spec"]["selector"].get("matchLabels"), labels),
            "the Deployment's selector matches its pod labels")
    c.check("replicas" not in dep["spec"],
            "the Deployment leaves spec.replicas to the HPA (kubectl apply would reset it)")
    containers = [x for x in spec["containers"] if x["name"] == "gqa-server"]
    if not c.check(len(containers) == 1, "one container named gqa-server"):
        return None
    ctr = containers[0]
    ports = {p["name"]: p["containerPort"] for p in ctr.get("ports", [])}
    c.check(ports.get("grpc") == defaults["port"],
            f"containerPort grpc {ports.get('grpc')} == gqa-server's default --port "
            f"{defaults['port']}")
    c.check(ports.get("metrics") == defaults["metrics_port"],
            f"containerPort metrics {ports.get('metrics')} == gqa-server's default --metrics-port "
            f"{defaults['metrics_port']}")

    args = [str(a) for a in ctr.get("args", [])]
    flags = parse_args_list(args)
    known = server_flags(repo)
    for flag, _ in flags:
        c.check(flag in known, f"container arg --{flag} is a gqa-server flag "
                               f"({', '.join(SERVER_FLAG_SOURCES)})")
    values = dict(flags)
    c.check("command" not in ctr, "the container keeps the image's ENTRYPOINT (gqa-server)")
    for flag, name in (("port", "grpc"), ("metrics-port", "metrics")):
        if flag in values:
            c.check(values[flag] == str(ports.get(name)),
                    f"--{flag} {values[flag]} == containerPort {name} {ports.get(name)}")
    if server_binary:
        r = subprocess.run([server_binary, *args, "--help"], capture_output=True, text=True,
                           timeout=60)
        c.check(r.returncode == 0,
                f"gqa-server accepts the container args (`gqa-server ARGS --help` exit "
                f"{r.returncode}: {r.stderr.strip()})")
        if r.returncode == 0:
            for flag, _ in flags:
                c.check(f"--{flag}" in r.stdout, f"gqa-server --help lists --{flag}")
    else:
        print("note: no --server-binary: the container args are checked against "
              "the flag sources only")

    # Probes: the kubelet's gRPC probes, grpc.health.v1 on the gRPC port.
    health_services = {"", source_constant(repo, "server/health_and_drain.h",
                                           r'kServiceName\[\] = "([^"]+)"',
                                           "the health service name")}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        p = ctr.get(probe)
        if not c.check(p is not None and "grpc" in p, f"{probe} is a grpc probe"):
            continue
        c.check(p["grpc"].get("port") == ports.get("grpc"),
                f"{probe} port {p['grpc'].get('port')} == containerPort grpc {ports.get('grpc')}")
        c.check(p["grpc"].get("service", "") in health_services,
                f"{probe} asks a service the server reports health for: {health_services}")

    # Termination arithmetic (deployment.yaml explains it).
    tgps = spec.get("terminationGracePeriodSeconds", 30)
    pre_stop = ctr.get("lifecycle", {}).get("preStop", {})
    sleep = 0
    if "exec" in pre_stop:
        cmd = pre_stop["exec"].get("command", [])
        c.check(len(cmd) == 2 and cmd[0] == "sleep" and cmd[1].isdigit(),
                f"preStop is `sleep N` (got {cmd})")
        sleep = int(cmd[1]) if len(cmd) == 2 and cmd[1].isdigit() else 0
    elif "sleep" in pre_stop:
        sleep = pre_stop["sleep"]["seconds"]
    c.check(sleep > 0, "a preStop sleep lets endpoint removal propagate before SIGTERM")
    drain = float(values.get("drain-timeout", defaults["drain_timeout"]))
    grace = int(source_constant(repo, "server/health_and_drain.cc",
                                r"kShutdownGrace\{(\d+)\}", "kShutdownGrace"))
    c.check(tgps > sleep + drain + grace,
            f"terminationGracePeriodSeconds {tgps} > preStop {sleep} + --drain-timeout {drain:g} "
            f"+ shutdown grace {grace} (server/health_and_drain.cc)")
    live = ctr.get("livenessProbe", {})
    live_window = live.get("periodSeconds", 10) * live.get("failureThreshold", 3)
    c.check(live_window >= tgps,
            f"the liveness probe needs {live_window} s of failures, at least "
            f"terminationGracePeriodSeconds {tgps}: it cannot restart a draining server")

    # Image, GPU, security.
    images = {i["name"]: i for i in k.get("images", [])}
    image_name = ctr["image"].split(":")[0]
    c.check(image_name in images, f"kustomization.yaml's images: sets {image_name}")
    tag = images.get(image_name, {}).get("newTag", ctr["image"].partition(":")[2])
    c.check(tag == "cuda", f"the GPU Deployment runs the Dockerfile's cuda target (tag {tag})")
    c.check(values.get("backend") == "cuda", "the GPU Deployment asks for --backend cuda")
    gpus = ctr.get("resources", {}).get("limits", {}).get("nvidia.com/gpu")
    c.check(str(gpus) == "1", f"limits nvidia.com/gpu: 1 (got {gpus})")
    dockerfile = source_text(repo, "Dockerfile")
    users = set(re.findall(r"^USER (\d+)", dockerfile, re.M))
    psc, csc = spec.get("securityContext", {}), ctr.get("securityContext", {})
    c.check(psc.get("runAsNonRoot") is True, "the pod runs as non-root (runAsNonRoot)")
    c.check(str(psc.get("runAsUser")) in users,
            f"runAsUser {psc.get('runAsUser')} is the image's USER {users}")
    c.check(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem")
    c.check(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
    c.check("ALL" in csc.get("capabilities", {}).get("drop", []), "capabilities drop ALL")

    # Volumes: every mount has a volume; --model lies on a read-only mount.
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = ctr.get("volumeMounts", [])
    for m in mounts:
        c.check(m["name"] in volumes, f"volumeMount {m['name']} has a volume")
    if "model" in values:
        under = [m for m in mounts if values["model"].startswith(m["mountPath"].rstrip("/") + "/")]
        c.check(len(under) == 1 and under[0].get("readOnly") is True,
                f"--model {values['model']} lies on a read-only volume mount")

    # Prometheus annotations.
    ann = pod["metadata"].get("annotations", {})
    metrics_path = source_constant(repo, "server/metrics/metrics_exposer.cc",
                                   r'kMetricsPath\[\] = "([^"]+)"', "the metrics path")
    c.check(ann.get("prometheus.io/scrape") == "true", "prometheus.io/scrape: \"true\"")
    c.check(ann.get("prometheus.io/port") == str(ports.get("metrics")),
            f"prometheus.io/port {ann.get('prometheus.io/port')} == containerPort metrics")
    c.check(ann.get("prometheus.io/path") == metrics_path,
            f"prometheus.io/path {ann.get('prometheus.io/path')} == {metrics_path}")
    return {"labels": labels, "ports": ports, "volumes": volumes, "metrics_path": metrics_path,
            "selector": dep["spec"]["selector"].get("matchLabels")}


def check_service(c, svc, pod):
    spec = svc["spec"]
    c.check(spec.get("clusterIP") == "None",
            "the Service is headless (clusterIP: None) for client-side gRPC balancing")
    c.check(matches(spec.get("selector"), pod["labels"]), "the Service selects the pods")
    names = {}
    for p in spec.get("ports", []):
        target = p.get("targetPort", p["port"])
        number = pod["ports"].get(target) if isinstance(target, str) else target
        c.check(number in pod["ports"].values(),
                f"Service port {p.get('name')} targets a container port ({target})")
        c.check(p["port"] == number, f"Service port {p.get('name')}: port == targetPort "
                                     f"(headless: clients dial the pod's port)")
        names[p.get("name")] = number
    c.check(names.get("grpc") == pod["ports"].get("grpc"), "the Service has the grpc port")
    return names


def check_pdb_and_hpa(c, repo, dep, pdb, hpa, pod):
    if pdb:
        c.check(matches(pdb["spec"].get("selector", {}).get("matchLabels"), pod["labels"])
                and pdb["spec"]["selector"]["matchLabels"] == pod["selector"],
                "the PDB selects the Deployment's pods (same selector)")
        budget = pdb["spec"].get("maxUnavailable", pdb["spec"].get("minAvailable"))
        c.check(isinstance(budget, int) or re.fullmatch(r"\d+%", str(budget)) is not None,
                f"the PDB's budget is a count or a percentage (got {budget!r})")
    if not hpa:
        return
    ref = hpa["spec"]["scaleTargetRef"]
    c.check(ref.get("apiVersion") == "apps/v1" and ref.get("kind") == "Deployment"
            and ref.get("name") == dep["metadata"]["name"],
            f"the HPA scales Deployment {dep['metadata']['name']} (targets {ref})")
    c.check(hpa["spec"].get("minReplicas", 1) <= hpa["spec"]["maxReplicas"],
            "HPA minReplicas <= maxReplicas")
    gauges = set(re.findall(r'gauge\(\s*"(\w+)"', source_text(repo,
                                                             "server/metrics/serving_metrics.cc")))
    names = []
    for m in hpa["spec"].get("metrics", []):
        c.check(m.get("type") == "Pods", f"HPA metric is a Pods metric ({m.get('type')})")
        name = m.get("pods", {}).get("metric", {}).get("name")
        names.append(name)
        c.check(name in gauges, f"HPA metric {name} is a gauge gqa-server exports "
                                f"(server/metrics/serving_metrics.cc: {sorted(gauges)})")
    return names


def check_service_monitor(c, sm, svc, port_names, metrics_path):
    c.check(sm.get("apiVersion") == SERVICE_MONITOR_API and sm.get("kind") == "ServiceMonitor",
            f"ServiceMonitor is {SERVICE_MONITOR_API} ServiceMonitor")
    c.check(bool(sm.get("metadata", {}).get("name")), "ServiceMonitor has a name")
    spec = sm.get("spec", {})
    c.check(set(spec) <= SERVICE_MONITOR_SPEC_FIELDS,
            f"ServiceMonitor spec fields are known: "
            f"{sorted(set(spec) - SERVICE_MONITOR_SPEC_FIELDS)}")
    c.check(matches(spec.get("selector", {}).get("matchLabels"), svc["metadata"].get("labels", {})),
            "the ServiceMonitor's selector matches the Service's labels")
    endpoints = spec.get("endpoints", [])
    c.check(len(endpoints) >= 1, "the ServiceMonitor has an endpoint")
    for e in endpoints:
        c.check(set(e) <= SERVICE_MONITOR_ENDPOINT_FIELDS,
                f"endpoint fields are known: {sorted(set(e) - SERVICE_MONITOR_ENDPOINT_FIELDS)}")
        c.check(e.get("port") in port_names,
                f"endpoint port {e.get('port')} is a Service port name {sorted(port_names)}")
        c.check(e.get("path", "/metrics") == metrics_path, f"endpoint path is {metrics_path}")
        for key in ("interval", "scrapeTimeout"):
            if key in e:
                c.check(re.fullmatch(r"(\d+(ms|s|m|h))+", e[key]) is not None,
                        f"endpoint {key} {e[key]} is a Prometheus duration")


def check_scrape(c, server_binary, metric_names, metrics_path):
    """The real server's /metrics has the HPA's metrics, as gauges."""
    server = RunningServer(server_binary)
    try:
        url = f"http://127.0.0.1:{server.metrics_port}{metrics_path}"
        body = urllib.request.urlopen(url, timeout=30).read().decode()
    finally:
        server.stop()
    for name in metric_names:
        c.check(f"# TYPE {name} gauge" in body and re.search(rf"^{name}(\{{|\s)", body, re.M),
                f"{url} exports {name} as a gauge")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--venv", required=True, help="venv for kubernetes-validate (build dir)")
    ap.add_argument("--server-binary", help="built gqa-server: parses the args, is scraped")
    args = ap.parse_args()
    reexec_in_venv(args.venv, REQUIREMENTS, "kubernetes_validate")
    import yaml

    repo = os.path.abspath(args.repo)
    directory = os.path.join(repo, "deploy", "k8s")
    c = Checker()
    manifests = load_manifests(directory, yaml)
    print(f"manifests: {', '.join(f'{n} ({ident(d)})' for n, ds in manifests.items() for d in ds)}")
    check_schemas(c, manifests)
    k = check_kustomization(c, directory, manifests, yaml)

    dep, svc = one(c, manifests, "Deployment"), one(c, manifests, "Service")
    pdb = one(c, manifests, "PodDisruptionBudget")
    hpa = one(c, manifests, "HorizontalPodAutoscaler")
    sm, pvc = one(c, manifests, "ServiceMonitor"), one(c, manifests, "PersistentVolumeClaim")
    if dep is None:
        return c.finish("validate_k8s")
    pod = check_deployment(c, repo, dep, k, args.server_binary)
    if pod is None:
        return c.finish("validate_k8s")
    port_names = check_service(c, svc, pod) if svc else {}
    metric_names = check_pdb_and_hpa(c, repo, dep, pdb, hpa, pod) or []
    if sm and svc:
        check_service_monitor(c, sm, svc, port_names, pod["metrics_path"])
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"].values()
              if "persistentVolumeClaim" in v]
    for claim in claims:
        c.check(pvc is not None and pvc["metadata"]["name"] == claim,
                f"the claim {claim} the pods mount is defined here")
    # deploy/k8s/inference-gateway: the InferencePool and its endpoint picker.
    metric_names += inference_gateway_check.check(
        c, repo, pod, yaml, check_schema, lambda c_, d, m: check_kustomization(c_, d, m, yaml))
    if args.server_binary and metric_names:
        check_scrape(c, args.server_binary, metric_names, pod["metrics_path"])
    return c.finish("validate_k8s")


if __name__ == "__main__":
    sys.exit(main())
