"""Checks the deploy/ example: every YAML file parses, the compose file and
the Kubernetes manifests run two replicas with health checks, and every
TFPILOT_* variable named in deploy/ or the Dockerfile is one the server reads.

Usage: python check_deploy.py <workspace root>. Prints one line per check
and exits 1 naming each problem.
"""

import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(sys.argv[1])
DEPLOY = ROOT / "deploy"
problems = []
checked = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def rel(path):
    return str(path.relative_to(ROOT))


def server_variables():
    """The TFPILOT_* names the server reads: string literals in its sources."""
    names = set()
    for src in ("server/src", "app/src"):
        for path in (ROOT / src).rglob("*.rs"):
            names.update(re.findall(r'"(TFPILOT_[A-Z0-9_]+)"', path.read_text()))
    return names


def check_variables():
    known = server_variables()
    files = [ROOT / "Dockerfile"] + sorted(p for p in DEPLOY.rglob("*") if p.is_file())
    count = 0
    for path in files:
        text = path.read_text()
        for name in sorted(set(re.findall(r"TFPILOT_[A-Z0-9_]*[A-Z0-9]_?", text))):
            count += 1
            if name.endswith("_"):
                # a family such as TFPILOT_GITHUB_APP_*
                if not any(k.startswith(name) for k in known):
                    problem(rel(path), f"{name}* names no variable the server reads")
            elif name not in known:
                problem(rel(path), f"{name} is not a variable the server reads (server/src)")
    checked.append(f"{count} TFPILOT_* names in Dockerfile and deploy/ checked against the server sources")


class UniqueKeyLoader(yaml.SafeLoader):
    """Refuses a key twice in one mapping, as docker compose and kubectl do."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_all(path):
    try:
        return [d for d in yaml.load_all(path.read_text(), Loader=UniqueKeyLoader) if d is not None]
    except yaml.YAMLError as e:
        problem(rel(path), f"does not parse as YAML: {e}")
        return []


def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return env


def check_compose():
    path = DEPLOY / "docker-compose.yml"
    docs = load_all(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        problem(rel(path), "must hold one compose document")
        return
    services = docs[0].get("services") or {}
    replicas = {
        name: s
        for name, s in services.items()
        if str(s.get("image", "")).startswith("tfpilot")
    }
    if len(replicas) != 2:
        problem(rel(path), f"runs {len(replicas)} tfpilot services, not 2")
    for name, s in replicas.items():
        test = (s.get("healthcheck") or {}).get("test")
        if not test or "/healthz" not in " ".join(test if isinstance(test, list) else [test]):
            problem(rel(path), f"service {name} has no healthcheck on /healthz")
        env_files = s.get("env_file") or []
        env_files = [env_files] if isinstance(env_files, str) else env_files
        if "tfpilot.env" not in [str(e) for e in env_files]:
            problem(rel(path), f"service {name} does not read its secrets from tfpilot.env")
        env = env_of(s)
        if env.get("TFPILOT_LOG_FORMAT") != "json":
            problem(rel(path), f"service {name} does not set TFPILOT_LOG_FORMAT=json")
    balancers = [
        (name, s)
        for name, s in services.items()
        if name not in replicas and set(s.get("depends_on") or []) >= set(replicas)
    ]
    if not balancers:
        problem(rel(path), "no load balancer service depends on both replicas")
    for name, s in balancers:
        for volume in s.get("volumes") or []:
            source = str(volume).split(":", 1)[0]
            if source.startswith("./") and not (DEPLOY / source).exists():
                problem(rel(path), f"service {name} mounts {source}, which deploy/ does not hold")
    example = DEPLOY / "tfpilot.env.example"
    if not example.is_file():
        problem(rel(example), "is missing")
    else:
        keys = {line.split("=", 1)[0] for line in example.read_text().splitlines() if "=" in line}
        for needed in ("TFPILOT_REQUESTS_BUCKET", "TFPILOT_CHAT_LOGS_BUCKET", "TFPILOT_MASTER_KEY"):
            if needed not in keys:
                problem(rel(example), f"does not set {needed}")
    checked.append(f"{rel(path)}: {len(replicas)} tfpilot services, {len(balancers)} load balancer; checked: healthchecks, env file, JSON logs")


def check_k8s():
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in load_all(path):
            for field in ("apiVersion", "kind", "metadata"):
                if field not in doc:
                    problem(rel(path), f"a document has no {field}")
            docs.append((path, doc))
    deployments = [(p, d) for p, d in docs if d.get("kind") == "Deployment"]
    if len(deployments) != 1:
        problem("deploy/k8s", f"holds {len(deployments)} Deployments, not 1")
    for path, d in deployments:
        spec = d.get("spec") or {}
        if spec.get("replicas") != 2:
            problem(rel(path), f"replicas is {spec.get('replicas')}, not 2")
        pod = (spec.get("template") or {}).get("spec") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not (pod.get("securityContext") or {}).get("runAsNonRoot"):
            problem(rel(path), "the pod does not set securityContext.runAsNonRoot")
        volumes = {v.get("name"): v for v in pod.get("volumes") or []}
        for c in pod.get("containers") or []:
            where = f"{rel(path)} container {c.get('name')}"
            for probe, route in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                got = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
                if got != route:
                    problem(where, f"{probe} is {got}, not GET {route}")
            if not (c.get("securityContext") or {}).get("readOnlyRootFilesystem"):
                problem(where, "the root filesystem is not read-only")
            env = {e.get("name"): e.get("value") for e in c.get("env") or []}
            data_dir = env.get("TFPILOT_DATA_DIR", "/var/lib/tfpilot")
            mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
            if "emptyDir" not in volumes.get(mounts.get(data_dir), {}):
                problem(where, f"the data dir {data_dir} is not an emptyDir volume")
            shutdown = int(env.get("TFPILOT_SHUTDOWN_SECS") or 20)
            grace = pod.get("terminationGracePeriodSeconds", 30)
            if grace <= shutdown:
                problem(where, f"terminationGracePeriodSeconds {grace} is not above TFPILOT_SHUTDOWN_SECS {shutdown}")
        services = [d for _, d in docs if d.get("kind") == "Service"]
        if not any(
            (s.get("spec") or {}).get("selector")
            and all(labels.get(k) == v for k, v in s["spec"]["selector"].items())
            for s in services
        ):
            problem(rel(path), "no Service selects the Deployment's pods")
    kinds = sorted({d.get("kind") for _, d in docs})
    checked.append(f"deploy/k8s: {len(docs)} manifests parse ({', '.join(kinds)}); checked: 2 replicas, probes, non-root, read-only root, grace period, Service")


check_compose()
check_k8s()
check_variables()
for line in checked:
    print(f"    {line}")
for line in problems:
    print(f"deploy check: {line}", file=sys.stderr)
sys.exit(1 if problems else 0)
