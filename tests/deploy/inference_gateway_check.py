"""Checks deploy/k8s/inference-gateway/ (for validate_k8s.py): gqa-server behind
the Kubernetes Gateway API Inference Extension.

  - core kinds (ServiceAccount, Role, RoleBinding, ConfigMap, Deployment,
    Service): the Kubernetes JSON schemas, strict, like deploy/k8s.
  - InferencePool (inference.networking.k8s.io/v1) and InferenceObjective
    (inference.networking.x-k8s.io/v1alpha2) are the extension's CRDs, in no
    Kubernetes schema and on no package registry this test can reach: their
    structure is checked here against the fields, types, bounds and enums of
    the published CRDs (config/crd/bases in kubernetes-sigs/
    gateway-api-inference-extension, v1.0): unknown fields are errors.
  - cross-checks: the pool selects the gqa-server pods; its targetPort is
    gqa-server's default --http-port and a containerPort of the pod; its
    endpointPickerRef names the EPP Service and port, which target the EPP
    container; the EPP scrapes gqa-server's metrics port and path; every metric
    name in the EPP's args is a gauge gqa-server exports (with a server binary:
    on its live /metrics too); the EPP's plugin config parses and every
    pluginRef is declared; RBAC binds the EPP's ServiceAccount to a Role that
    can read pods, pools and objectives; the kustomization lists exactly the
    files and sets the EPP image.
"""

import glob
import os
import re

from deploy_test_util import source_constant, source_text

POOL_API = "inference.networking.k8s.io/v1"
OBJECTIVE_API = "inference.networking.x-k8s.io/v1alpha2"
EPP_CONFIG_API = "inference.networking.x-k8s.io/v1alpha1"
# The EPP flags that name model server metrics, and the protocol's metric each is.
METRIC_FLAGS = {
    "total-queued-requests-metric": "TotalQueuedRequests",
    "total-running-requests-metric": "TotalRunningRequests",
    "kv-cache-usage-percentage-metric": "KVCacheUtilization",
    "cache-info-metric": "CacheInfo (block_size, num_gpu_blocks)",
}
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
KIND = re.compile(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$")


def _fields(c, obj, allowed, required, where):
    if not c.check(isinstance(obj, dict), f"{where} is an object"):
        return False
    c.check(set(obj) <= allowed, f"{where}: unknown fields {sorted(set(obj) - allowed)} "
                                 f"(the CRD has {sorted(allowed)})")
    c.check(required <= set(obj), f"{where}: missing required {sorted(required - set(obj))}")
    return True


def _port(c, p, where):
    if _fields(c, p, {"number"}, {"number"}, where):
        n = p["number"]
        c.check(isinstance(n, int) and 1 <= n <= 65535, f"{where}.number {n!r} in 1..65535")


def _name(c, value, where, max_len=253):
    c.check(isinstance(value, str) and 1 <= len(value) <= max_len, f"{where} is a name")


def check_pool_structure(c, pool):
    """InferencePool v1 against the CRD's schema."""
    where = f"InferencePool/{pool.get('metadata', {}).get('name')}"
    c.check(set(pool) <= {"apiVersion", "kind", "metadata", "spec"}, f"{where}: top-level fields")
    spec = pool.get("spec")
    if not _fields(c, spec, {"selector", "targetPorts", "endpointPickerRef"},
                   {"selector", "targetPorts", "endpointPickerRef"}, f"{where}.spec"):
        return
    sel = spec["selector"]
    if _fields(c, sel, {"matchLabels"}, {"matchLabels"}, f"{where}.spec.selector"):
        for k, v in sel["matchLabels"].items():
            c.check(isinstance(v, str) and len(v) <= 63 and LABEL_VALUE.match(v) is not None,
                    f"{where}: label value {k}={v!r} is a Kubernetes label value")
    ports = spec["targetPorts"]
    if c.check(isinstance(ports, list) and len(ports) == 1,
               f"{where}.spec.targetPorts has exactly one port (the CRD's minItems/maxItems 1)"):
        _port(c, ports[0], f"{where}.spec.targetPorts[0]")
    ref = spec["endpointPickerRef"]
    if _fields(c, ref, {"group", "kind", "name", "port", "failureMode"}, {"name"},
               f"{where}.spec.endpointPickerRef"):
        c.check(DNS_SUBDOMAIN.match(ref.get("group", "")) is not None, f"{where}: group")
        kind = ref.get("kind", "Service")
        c.check(KIND.match(kind) is not None and len(kind) <= 63, f"{where}: kind {kind!r}")
        _name(c, ref["name"], f"{where}.spec.endpointPickerRef.name")
        c.check(ref.get("failureMode", "FailClose") in ("FailOpen", "FailClose"),
                f"{where}: failureMode is FailOpen or FailClose")
        if kind == "Service":
            c.check("port" in ref, f"{where}: a Service endpointPickerRef names its port")
        if "port" in ref:
            _port(c, ref["port"], f"{where}.spec.endpointPickerRef.port")


def check_objective_structure(c, obj):
    """InferenceObjective v1alpha2 against the CRD's schema."""
    where = f"InferenceObjective/{obj.get('metadata', {}).get('name')}"
    c.check(set(obj) <= {"apiVersion", "kind", "metadata", "spec"}, f"{where}: top-level fields")
    spec = obj.get("spec")
    if not _fields(c, spec, {"poolRef", "priority"}, {"poolRef"}, f"{where}.spec"):
        return
    ref = spec["poolRef"]
    if _fields(c, ref, {"group", "kind", "name"}, {"name"}, f"{where}.spec.poolRef"):
        _name(c, ref["name"], f"{where}.spec.poolRef.name")
        c.check(ref.get("group", "inference.networking.k8s.io") == "inference.networking.k8s.io"
                and ref.get("kind", "InferencePool") == "InferencePool",
                f"{where}: poolRef is an inference.networking.k8s.io InferencePool")
    if "priority" in spec:
        c.check(isinstance(spec["priority"], int) and not isinstance(spec["priority"], bool),
                f"{where}: priority is an integer")


def exported_gauges(repo):
    """Gauge names registered in server/metrics/serving_metrics.cc."""
    text = source_text(repo, "server/metrics/serving_metrics.cc")
    return (set(re.findall(r'gauge\(\s*"(\w+)"', text))
            | set(re.findall(r'BuildGauge\(\)\s*\.Name\(\s*"(\w+)"', text)))


def _flags(args):
    out = {}
    for a in args:
        m = re.fullmatch(r"--([a-z0-9-]+)(?:=(.*))?", str(a))
        if m:
            out[m.group(1)] = m.group(2)
    return out


def check(c, repo, server_pod, yaml, validate_schema, check_kustomize):
    """server_pod: validate_k8s's facts about the gqa-server pod (labels, ports,
    metrics_path). validate_schema(c, name, doc): the Kubernetes schema check.
    Returns the metric names the EPP reads, for the live scrape."""
    directory = os.path.join(repo, "deploy", "k8s", "inference-gateway")
    docs = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.yaml"))):
        if os.path.basename(path) != "kustomization.yaml":
            with open(path, encoding="utf-8") as f:
                docs[os.path.basename(path)] = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for name, ds in docs.items():
        for d in ds:
            by_kind.setdefault(d.get("kind"), []).append(d)
            if d.get("apiVersion", "").startswith("inference.networking."):
                continue
            validate_schema(c, name, d)
    k = check_kustomize(c, directory, docs)

    def one(kind):
        found = by_kind.get(kind, [])
        c.check(len(found) == 1, f"inference-gateway: exactly one {kind} (found {len(found)})")
        return found[0] if found else None

    pool, objective = one("InferencePool"), one("InferenceObjective")
    dep, svc = one("Deployment"), one("Service")
    sa, role, binding, cm = one("ServiceAccount"), one("Role"), one("RoleBinding"), one("ConfigMap")
    if None in (pool, objective, dep, svc, sa, role, binding, cm):
        return []
    c.check(pool["apiVersion"] == POOL_API, f"InferencePool is {POOL_API}")
    c.check(objective["apiVersion"] == OBJECTIVE_API, f"InferenceObjective is {OBJECTIVE_API}")
    check_pool_structure(c, pool)
    check_objective_structure(c, objective)
    spec = pool.get("spec", {})

    # The pool and the gqa-server pods.
    http_port = int(source_constant(repo, "server/server_options.h",
                                    r"kDefaultHttpPort = (\d+);", "the default --http-port"))
    labels = server_pod["labels"]
    c.check(bool(spec["selector"]["matchLabels"]) and all(
        labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()),
        "the InferencePool selects the gqa-server pods")
    target = spec["targetPorts"][0]["number"]
    c.check(target == http_port, f"the pool's targetPort {target} == gqa-server's default "
                                 f"--http-port {http_port}")
    c.check(server_pod["ports"].get("http") == target,
            f"the gqa-server pod has containerPort http {target} "
            f"(has {server_pod['ports']})")
    c.check(objective["spec"]["poolRef"]["name"] == pool["metadata"]["name"],
            "the InferenceObjective's poolRef names the InferencePool")

    # The picker: Service, Deployment, args.
    ref = spec["endpointPickerRef"]
    pod = dep["spec"]["template"]
    plabels = pod["metadata"].get("labels", {})
    c.check(ref["name"] == svc["metadata"]["name"], "endpointPickerRef names the EPP Service")
    svc_ports = {p["port"]: p for p in svc["spec"].get("ports", [])}
    c.check(ref.get("port", {}).get("number") in svc_ports,
            f"endpointPickerRef port {ref.get('port')} is a port of the EPP Service")
    c.check(all(plabels.get(k) == v for k, v in svc["spec"]["selector"].items()),
            "the EPP Service selects the EPP pods")
    c.check(dep["spec"]["selector"]["matchLabels"].items() <= plabels.items(),
            "the EPP Deployment's selector matches its pod labels")
    c.check(not set(plabels.items()) >= set(spec["selector"]["matchLabels"].items()),
            "the pool does not select the EPP's own pods")
    ctr = pod["spec"]["containers"][0]
    cports = {p["name"]: p["containerPort"] for p in ctr.get("ports", [])}
    sp = svc_ports.get(ref.get("port", {}).get("number"), {})
    tp = sp.get("targetPort", sp.get("port"))
    c.check((cports.get(tp) if isinstance(tp, str) else tp) in cports.values(),
            f"the EPP Service's port targets an EPP container port ({tp})")
    flags = _flags(ctr.get("args", []))
    c.check(flags.get("pool-name") == pool["metadata"]["name"], "--pool-name is the pool's name")
    c.check(str(flags.get("grpc-port")) == str(cports.get("grpc")),
            "--grpc-port is the container's grpc port")
    c.check(flags.get("model-server-metrics-port") == str(server_pod["ports"].get("metrics")),
            f"--model-server-metrics-port {flags.get('model-server-metrics-port')} == gqa-server's "
            f"containerPort metrics {server_pod['ports'].get('metrics')} (not the pool's port)")
    c.check(flags.get("model-server-metrics-path", "/metrics") == server_pod["metrics_path"],
            f"--model-server-metrics-path is {server_pod['metrics_path']}")
    c.check(flags.get("lora-info-metric") == "", "--lora-info-metric= (gqa-server has no LoRA)")
    gauges = exported_gauges(repo)
    names = []
    for flag, what in METRIC_FLAGS.items():
        name = flags.get(flag)
        c.check(name in gauges, f"--{flag} ({what}) {name!r} is a gauge gqa-server exports "
                                f"(server/metrics/serving_metrics.cc)")
        if name:
            names.append(name)

    # The plugin config the args point at.
    cfg_path = flags.get("config-file", "")
    mounts = {m["mountPath"].rstrip("/"): m["name"] for m in ctr.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    mount = mounts.get(os.path.dirname(cfg_path))
    c.check(mount is not None and vols.get(mount, {}).get("configMap", {}).get("name")
            == cm["metadata"]["name"], f"--config-file {cfg_path} lies on the ConfigMap's mount")
    text = cm.get("data", {}).get(os.path.basename(cfg_path))
    if c.check(text is not None, f"the ConfigMap has {os.path.basename(cfg_path)}"):
        cfg = yaml.safe_load(text)
        c.check(cfg.get("apiVersion") == EPP_CONFIG_API and cfg.get("kind") == "EndpointPickerConfig",
                f"the plugin config is an {EPP_CONFIG_API} EndpointPickerConfig")
        c.check(set(cfg) <= {"apiVersion", "kind", "plugins", "schedulingProfiles", "featureGates",
                             "saturationDetector", "data"}, "the plugin config's fields are known")
        declared = {p.get("name", p.get("type")) for p in cfg.get("plugins", [])}
        for prof in cfg.get("schedulingProfiles", []):
            for ref_ in prof.get("plugins", []):
                c.check(ref_.get("pluginRef") in declared,
                        f"profile {prof.get('name')}: pluginRef {ref_.get('pluginRef')} is declared")

    # RBAC: the pod's ServiceAccount may read what the EPP watches.
    c.check(pod["spec"].get("serviceAccountName") == sa["metadata"]["name"],
            "the EPP runs as its ServiceAccount")
    c.check(any(s.get("kind") == "ServiceAccount" and s.get("name") == sa["metadata"]["name"]
                for s in binding.get("subjects", []))
            and binding["roleRef"]["name"] == role["metadata"]["name"]
            and binding["roleRef"]["kind"] == "Role", "the RoleBinding binds the SA to the Role")
    granted = {(g, r) for rule in role.get("rules", []) for g in rule.get("apiGroups", [])
               for r in rule.get("resources", []) if {"get", "list", "watch"} <= set(rule["verbs"])}
    for need in (("", "pods"), ("inference.networking.k8s.io", "inferencepools"),
                 ("inference.networking.x-k8s.io", "inferenceobjectives")):
        c.check(need in granted, f"the Role lets the EPP get/list/watch {need[1]}")
    images = {i["name"] for i in (k or {}).get("images", [])}
    c.check(ctr["image"] in images, f"kustomization.yaml's images: sets the EPP image {ctr['image']}")
    return names
