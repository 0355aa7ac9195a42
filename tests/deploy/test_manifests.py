"""Offline checks of the deployment artefacts: Kubernetes manifests, docker-compose.yml, Dockerfile.

Nothing here needs a network, a cluster or a Docker engine: kustomize renders locally
(``kubectl kustomize``), kubernetes-validate and check-jsonschema ship their schemas, and the custom
resources (KEDA, RabbitMQ, CloudNativePG) are validated against their operators' CRD schemas, read
from the folder ``CRD_SCHEMAS_DIR`` names (by default ``shared/crds`` beside the repository).

What must be deployed is read from the code, never listed here by hand: every service with a WSGI
app (``services/<name>/wsgi.py``) has an API; one with a worker (``worker.py``) has a Deployment per
part of ``shared.messaging.worker.ROLES`` (the consumer only if the topology gives it queues); one
with ``manage.py`` has a migration Job. The variables each process may be given are those its
configuration modules read.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.messaging.topology import SUBSCRIPTIONS
from shared.messaging.worker import ROLES

# The Kubernetes API version the manifests are validated against (kubernetes-validate ships
# its schemas). Raise it deliberately, together with the clusters we deploy to.
KUBERNETES_VERSION = "1.32.0"

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = {
    "base": BASE,
    "development": K8S / "overlays" / "development",
    "production": K8S / "overlays" / "production",
}
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
PROCFILE = REPO / "Procfile"

IMAGE_REPOSITORY = "ghcr.io/example/t4t-platform"
PART_OF = "t4t-platform"
NAMESPACE = "t4t"
UID = 10001
API_PORT = 8000
WORKER_METRICS_PORT = 9100
SECRET_KEYS = {"DATABASE_URL", "BROKER_URL"}
SHARED_CONFIG_MAP = "platform-config"
BROKER = "t4t-rabbitmq"
# Processes of make run and docker-compose.yml that no cluster runs: the local mail sink.
DEVELOPMENT_ONLY = {"smtp-sink"}
# The web pages people use: an HTTP server with no database, broker or worker of its own.
PORTAL = "portal"
WORKER_PARTS = tuple(ROLES)
COMPONENTS = ("api", *WORKER_PARTS, "migrate")
# The ports other pods may open on each kind of process (NetworkPolicies).
INGRESS_PORTS = {"api": {API_PORT}, "migrate": set(), **{part: {WORKER_METRICS_PORT} for part in WORKER_PARTS}}
# The Ingress: the path of each API (its service's name) and the portal at the root.
INGRESS_PATHS = {"content", "scheduling", "coaching", "notifications"}


# --------------------------------------------------------------------------- what the code runs


@dataclass(frozen=True)
class Process:
    """One process of the platform, as the code defines it."""

    service: str
    component: str  # api | consumer | relay | jobs | migrate
    command: tuple[str, ...]

    @property
    def name(self) -> str:
        """Its workload's name (Deployment or Job) and its docker-compose service's."""
        return PORTAL if self.service == PORTAL else f"{self.service}-{self.component}"

    @property
    def kind(self) -> str:
        return "Job" if self.component == "migrate" else "Deployment"

    @property
    def has_data(self) -> bool:
        return self.service != PORTAL


def consumers() -> set[str]:
    return {sub.consumer for sub in SUBSCRIPTIONS}


def queues_of(service: str) -> list[str]:
    return sorted(sub.queue for sub in SUBSCRIPTIONS if sub.consumer == service)


@cache
def services_in_the_code() -> tuple[str, ...]:
    return tuple(sorted(path.parent.name for path in (REPO / "services").glob("*/wsgi.py")))


@cache
def processes_in_the_code() -> tuple[Process, ...]:
    """Every process the platform's code defines, with the command that starts it."""
    found = []
    for service in services_in_the_code():
        folder = REPO / "services" / service
        conf = (
            f"services.{service}.gunicorn_conf" if (folder / "gunicorn_conf.py").is_file() else "shared.gunicorn_conf"
        )
        found.append(Process(service, "api", ("gunicorn", "-c", f"python:{conf}", f"services.{service}.wsgi:app")))
        if (folder / "worker.py").is_file():
            for part in WORKER_PARTS:
                if part != "consumer" or service in consumers():
                    found.append(Process(service, part, ("python", "-m", f"services.{service}.worker", part)))
        if (folder / "manage.py").is_file():
            manage = f"python -m services.{service}.manage"
            found.append(Process(service, "migrate", ("sh", "-c", f"{manage} migrate && {manage} seed")))
    return tuple(found)


def data_services() -> list[str]:
    return sorted({p.service for p in processes_in_the_code() if p.has_data})


ENV_READ = re.compile(
    r"""(?:env_[a-z]+|environ\.get|getenv)\(\s*f?["']([A-Za-z0-9_{}]+)["']|environ\[\s*f?["']([A-Za-z0-9_{}]+)["']\]"""
)


def names_read_in(path: Path, service: str) -> set[str]:
    """Variable names a module reads (``env_str("X", ...)``, ``os.environ.get("X")``, ...), with a
    ``{prefix}`` of shared/config.py standing for the service's name in capitals."""
    names = set()
    for match in ENV_READ.finditer(path.read_text()):
        name = (match.group(1) or match.group(2)).replace("{prefix}", service.upper())
        if "{" not in name:
            names.add(name)
    return names


@cache
def variables_read_by(service: str) -> frozenset[str]:
    """What a service's processes read from the environment: its config module (and the platform's
    shared settings if it builds on CommonConfig), its gunicorn settings and the worker's."""
    folder = REPO / "services" / service
    config = folder / "config.py"
    modules = [config, REPO / "shared" / "gunicorn_conf.py", REPO / "shared" / "messaging" / "worker.py"]
    if (folder / "gunicorn_conf.py").is_file():
        modules.append(folder / "gunicorn_conf.py")
    names = set().union(*(names_read_in(path, service) for path in modules))
    text = config.read_text()
    if "CommonConfig" in text:
        names |= names_read_in(REPO / "shared" / "config.py", service)
    elif "data_dir" in text:
        names.add("DATA_DIR")  # shared.config.data_dir()
    return frozenset(names)


def variables_read_by_any_service() -> set[str]:
    return set().union(*(variables_read_by(s) for s in services_in_the_code()))


# --------------------------------------------------------------------------- helpers


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def required(what: str, why: str):
    """Fail under CI=true, skip (saying why) elsewhere."""
    if in_ci():
        pytest.fail(f"{what} is required in CI: {why}")
    pytest.skip(f"{what} is missing: {why} (with CI=true this fails)")


def load_all(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def module_file(dotted: str) -> Path | None:
    """The file a dotted module name resolves to inside the repository, if any."""
    path = REPO.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def modules_run_by(command: str | list[str]) -> list[tuple[str, str | None]]:
    """The modules a process command imports, as (dotted module, required attribute or None).

    Understands ``python -m X``, ``gunicorn -c python:X Y:attr`` and ``sh -c "a && b"``.
    """
    args = shlex.split(command) if isinstance(command, str) else list(command)
    assert args, "empty command"
    if args[0] in {"sh", "/bin/sh", "bash"} and len(args) >= 3 and args[1] == "-c":
        return [m for part in args[2].split("&&") for m in modules_run_by(part.strip())]
    program = os.path.basename(args[0])
    if program.startswith("python"):
        assert "-m" in args, f"python command without -m: {args}"
        module = args[args.index("-m") + 1]
        return [(module + ".__main__", None) if module_file(module + ".__main__") else (module, None)]
    if program == "gunicorn":
        found: list[tuple[str, str | None]] = []
        for flag in ("-c", "--config"):
            if flag in args and args[args.index(flag) + 1].startswith("python:"):
                found.append((args[args.index(flag) + 1].removeprefix("python:"), None))
        apps = [a for a in args[1:] if ":" in a and not a.startswith(("python:", "-"))]
        assert len(apps) == 1, f"gunicorn command should name exactly one WSGI app: {args}"
        module, attribute = apps[0].split(":", 1)
        found.append((module, attribute))
        return found
    raise AssertionError(f"unrecognised process command: {args}")


def assert_modules_exist(command: str | list[str], where: str) -> None:
    modules = modules_run_by(command)
    assert modules, f"{where}: no module found in {command!r}"
    for module, attribute in modules:
        path = module_file(module)
        assert path is not None, f"{where}: module {module} (from {command!r}) is not in the repository"
        if attribute:
            assert re.search(rf"^{re.escape(attribute)}\s*[:=]", path.read_text(), re.MULTILINE), (
                f"{where}: {path.relative_to(REPO)} defines no module-level {attribute!r}"
            )


def argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def render(overlay: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        required("kubectl", "it renders the kustomizations")
    result = subprocess.run(
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay.relative_to(REPO)} failed:\n{result.stderr}"
    return load_all(result.stdout)


def crd_folder() -> Path:
    """The operators' published CRDs: $CRD_SCHEMAS_DIR, or shared/crds beside the repository."""
    folder = Path(os.environ.get("CRD_SCHEMAS_DIR") or REPO.parent / "shared" / "crds")
    if not folder.is_dir() or not list(folder.glob("*.yaml")):
        required(f"the CRD schemas folder {folder}", "custom resources are validated against them; set CRD_SCHEMAS_DIR")
    return folder


@cache
def crd_schemas(folder: Path) -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> the openAPIV3Schema of every served version of every CRD in ``folder``."""
    schemas = {}
    for path in sorted(folder.glob("*.yaml")):
        for crd in load_all(path.read_text()):
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def is_custom(doc: dict) -> bool:
    group = doc["apiVersion"].rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def validate(doc: dict, where: str) -> None:
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    if is_custom(doc):
        schema = crd_schemas(crd_folder()).get((doc["apiVersion"], doc["kind"]))
        assert schema is not None, f"{where}: {name}: no CRD schema for {doc['apiVersion']} {doc['kind']}"
        try:
            jsonschema.validate(doc, schema, cls=jsonschema.Draft7Validator)
        except jsonschema.ValidationError as exc:
            path = "/".join(str(p) for p in exc.absolute_path)
            pytest.fail(f"{where}: {name} does not match its CRD at {path}: {exc.message}")
        # A CRD schema is silent about fields it does not name unless it says so: reject unknown ones here.
        assert_known_fields(doc.get("spec", {}), schema["properties"].get("spec", {}), f"{where}: {name}: spec")
        return
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = "/".join(str(p) for p in exc.path)
        pytest.fail(f"{where}: {name} is invalid for Kubernetes {KUBERNETES_VERSION} at {path}: {exc.message}")
    except kubernetes_validate.SchemaNotFoundError as exc:
        pytest.fail(f"{where}: {name}: {exc.message}")


def assert_known_fields(value, schema: dict, where: str) -> None:
    """Every key of ``value`` is a property its schema declares (as the API server prunes unknown ones)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict) and "properties" in schema:
        unknown = set(value) - set(schema["properties"])
        assert not unknown, f"{where}: fields the CRD does not know: {sorted(unknown)}"
        for key, item in value.items():
            assert_known_fields(item, schema["properties"][key], f"{where}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            assert_known_fields(item, schema["items"], f"{where}[]")


def kustomizations(root: Path = BASE) -> list[Path]:
    """``root`` and every kustomization folder it includes, depth first (the base's tree)."""
    found = [root]
    for resource in yaml.safe_load((root / "kustomization.yaml").read_text()).get("resources", []):
        if (root / resource).is_dir():
            found += kustomizations((root / resource).resolve())
    return found


def resource_files(root: Path = BASE) -> list[Path]:
    """Every manifest file the base's kustomizations list (directly or through sub-folders)."""
    files = []
    for folder in kustomizations(root):
        for resource in yaml.safe_load((folder / "kustomization.yaml").read_text()).get("resources", []):
            if (folder / resource).is_file():
                files.append((folder / resource).resolve())
    return files


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected exactly one {kind}/{name}, found {len(found)}"
    return found[0]


def workload(docs: list[dict], process: Process) -> dict:
    return one(docs, process.kind, process.name)


def pod_spec(workload_doc: dict) -> dict:
    return workload_doc["spec"]["template"]["spec"]


def pod_labels(workload_doc: dict) -> dict:
    return workload_doc["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict, labels: dict) -> bool:
    """Whether a label selector (matchLabels / matchExpressions) matches ``labels``."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def config_map_keys(docs: list[dict], container: dict) -> set[str]:
    """The variable names a container gets from the ConfigMaps its envFrom names."""
    maps = {c["metadata"]["name"]: c for c in by_kind(docs, "ConfigMap")}
    keys: set[str] = set()
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            keys |= set(maps[source["configMapRef"]["name"]].get("data", {}))
    return keys


def variables_given(docs: list[dict], container: dict) -> set[str]:
    return set(env_of(container)) | config_map_keys(docs, container)


def config_map_named(docs: list[dict], name: str) -> dict:
    """A generated ConfigMap by its name before kustomize appended the content hash."""
    found = [
        c
        for c in by_kind(docs, "ConfigMap")
        if re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]{{10}})?", c["metadata"]["name"])
    ]
    assert len(found) == 1, f"expected one ConfigMap {name}, found {[c['metadata']['name'] for c in found]}"
    return found[0]


def policies_for(docs: list[dict], labels: dict, direction: str) -> list[dict]:
    return [
        p
        for p in by_kind(docs, "NetworkPolicy")
        if direction in p["spec"].get("policyTypes", []) and selects(p["spec"]["podSelector"], labels)
    ]


def ingress_ports_admitted(docs: list[dict], labels: dict) -> set:
    """The ports some NetworkPolicy lets others reach on a pod with ``labels``."""
    return {
        port.get("port")
        for policy in policies_for(docs, labels, "Ingress")
        for rule in policy["spec"].get("ingress", [])
        for port in rule.get("ports", [{"port": "ANY"}])
    }


def egress_peers(docs: list[dict], labels: dict) -> list[tuple[dict, set]]:
    """(peer selector, ports) pairs some NetworkPolicy lets a pod with ``labels`` reach."""
    return [
        (peer, {p.get("port") for p in rule.get("ports", [])})
        for policy in policies_for(docs, labels, "Egress")
        for rule in policy["spec"].get("egress", [])
        for peer in rule.get("to", [{}])
    ]


def may_reach(docs: list[dict], labels: dict, target: dict, port: int) -> bool:
    return any(
        "podSelector" in peer
        and "namespaceSelector" not in peer
        and selects(peer["podSelector"], target)
        and port in ports
        for peer, ports in egress_peers(docs, labels)
    )


@pytest.fixture(scope="module", params=sorted(OVERLAYS))
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render(OVERLAYS[request.param])


PROCESSES = processes_in_the_code()
PROCESS_IDS = [p.name for p in PROCESSES]
SERVICES = data_services()


# --------------------------------------------------------------------------- the code's processes


def test_the_processes_are_read_from_the_code():
    """The list every other check walks: an API per service, a worker's parts, a migration Job."""
    names = {p.name for p in PROCESSES}
    assert PORTAL in names
    for service in SERVICES:
        assert {f"{service}-api", f"{service}-relay", f"{service}-jobs", f"{service}-migrate"} <= names
        assert (f"{service}-consumer" in names) == bool(queues_of(service))
    for process in PROCESSES:
        assert_modules_exist(list(process.command), process.name)


def test_procfile_runs_the_same_processes_as_the_image():
    """make run (the Procfile) starts each API with the same command, and each worker with all its parts."""
    procfile = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            args = argv(command.strip())
            if "--bind" in args:  # make run binds each API to its own local port
                del args[args.index("--bind") : args.index("--bind") + 2]
            procfile[name.strip()] = args
    expected = {p.name: list(p.command) for p in PROCESSES if p.component == "api"}
    for service in SERVICES:
        expected[f"{service}-worker"] = ["python", "-m", f"services.{service}.worker"]  # every part, in one process
    assert {k: v for k, v in procfile.items() if k not in DEVELOPMENT_ONLY} == expected


# --------------------------------------------------------------------------- Kubernetes


def test_kubernetes_version_is_shipped_by_kubernetes_validate():
    from kubernetes_validate.utils import all_versions, major_minor

    assert major_minor(KUBERNETES_VERSION) in {major_minor(v) for v in all_versions()}


def test_every_service_of_the_repository_has_its_folder():
    for service in services_in_the_code():
        assert BASE / service in kustomizations(), f"deploy/k8s/base/{service} is not in the base kustomization"


def test_base_resource_files_validate_without_kustomize():
    """Every file the base's kustomizations list is valid on its own."""
    files = resource_files()
    assert files
    for path in files:
        for doc in load_all(path.read_text()):
            validate(doc, str(path.relative_to(K8S)))


def test_the_crd_schemas_are_the_operators_and_catch_mistakes():
    """The CRD folder holds every kind used, and a wrong field is caught (the check can fail)."""
    schemas = crd_schemas(crd_folder())
    for kind in ("ScaledObject", "TriggerAuthentication", "RabbitmqCluster", "Cluster", "ScheduledBackup", "Pooler"):
        assert any(k == kind for _, k in schemas), f"no CRD for {kind} in {crd_folder()}"
    (broker,) = [d for d in load_all((BASE / "platform" / "rabbitmq.yaml").read_text())]
    wrong = {**broker, "spec": {**broker["spec"], "replicas": "three"}}
    with pytest.raises(pytest.fail.Exception):
        validate(wrong, "a misspelt RabbitmqCluster")
    unknown = {**broker, "spec": {**broker["spec"], "replica": 3}}
    with pytest.raises(AssertionError):
        validate(unknown, "a RabbitmqCluster with an unknown field")


def test_rendered_documents_validate(rendered):
    overlay, docs = rendered
    assert docs, f"{overlay} renders nothing"
    # The Kubernetes objects first: without the CRD folder, only the custom resources' check skips.
    for doc in sorted(docs, key=is_custom):
        validate(doc, overlay)


def test_every_document_is_labelled_and_namespaced(rendered):
    overlay, docs = rendered
    for doc in docs:
        meta = doc["metadata"]
        where = f"{overlay}: {doc['kind']}/{meta['name']}"
        assert meta.get("labels", {}).get("app.kubernetes.io/part-of") == PART_OF, where
        if doc["kind"] == "Namespace":
            assert meta["name"] == NAMESPACE
            assert meta["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        else:
            assert meta.get("namespace") == NAMESPACE, where


def test_no_secret_is_committed(rendered):
    overlay, docs = rendered
    assert by_kind(docs, "Secret") == [], f"{overlay} renders a Secret: secrets are created out of band"


def test_shared_resources_exist_once(rendered):
    _, docs = rendered
    assert [n["metadata"]["name"] for n in by_kind(docs, "Namespace")] == [NAMESPACE]
    config_map_named(docs, SHARED_CONFIG_MAP)
    ids = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(ids) == len(set(ids)), f"rendered twice: {sorted({i for i in ids if ids.count(i) > 1})}"


@pytest.mark.parametrize("service", sorted({p.service for p in PROCESSES}))
def test_secret_example_is_documented_but_never_rendered(service):
    example_file = BASE / service / "secret.example.yaml"
    assert example_file.resolve() not in resource_files(), f"{example_file.relative_to(K8S)} must not be a resource"
    (example,) = load_all(example_file.read_text())
    validate(example, str(example_file.relative_to(K8S)))
    assert example["metadata"]["name"] == f"{service}-secrets"
    assert example["metadata"]["namespace"] == NAMESPACE
    assert all("CHANGE-ME" in value for value in example["stringData"].values())
    if service != PORTAL:
        assert SECRET_KEYS <= set(example["stringData"])
        assert f"@{service}-db-pooler:5432/{service}" in example["stringData"]["DATABASE_URL"]
        assert f"@{BROKER}:5672/" in example["stringData"]["BROKER_URL"]


@pytest.mark.parametrize("process", PROCESSES, ids=PROCESS_IDS)
def test_every_process_has_its_workload_command_probes_resources_and_policy(rendered, process):
    """The consistency check: each process of the code runs in its own workload, with the code's command."""
    overlay, docs = rendered
    doc = workload(docs, process)
    where = f"{overlay}: {process.name}"
    (container,) = pod_spec(doc)["containers"]
    assert container["command"] == list(process.command), where
    labels = pod_labels(doc)
    assert labels["app.kubernetes.io/name"] == process.service, where
    assert labels["app.kubernetes.io/component"] == process.component, where
    assert doc["metadata"]["labels"]["app.kubernetes.io/component"] == process.component, where
    resources = container["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"] and resources["limits"]["memory"], where
    assert policies_for(docs, labels, "Ingress") and policies_for(docs, labels, "Egress"), f"{where}: no policy"
    assert ingress_ports_admitted(docs, labels) == INGRESS_PORTS[process.component], where
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    if process.component == "api":
        assert ports == {"http": API_PORT}, where
        paths = {
            probe: container[probe]["httpGet"]["path"] for probe in ("startupProbe", "readinessProbe", "livenessProbe")
        }
        # The portal has no database or broker to be ready for: /healthz says it serves.
        ready = "/readyz" if process.has_data else "/healthz"
        assert paths == {"startupProbe": "/healthz", "readinessProbe": ready, "livenessProbe": "/healthz"}, where
        assert container["lifecycle"]["preStop"]["sleep"]["seconds"] >= 5, f"{where}: no pause before SIGTERM"
        grace = pod_spec(doc)["terminationGracePeriodSeconds"]
        assert grace >= container["lifecycle"]["preStop"]["sleep"]["seconds"] + 20, f"{where}: gunicorn's 20 s must fit"
    elif process.component in WORKER_PARTS:
        assert ports == {"metrics": WORKER_METRICS_PORT}, f"{where}: a worker's only port is its metrics port"
        assert env_of(container)["WORKER_METRICS_PORT"]["value"] == str(WORKER_METRICS_PORT)
        # The worker waits up to STOP_SECONDS for the message in hand: it must fit the grace period.
        from shared.messaging.worker import STOP_SECONDS

        assert pod_spec(doc)["terminationGracePeriodSeconds"] > STOP_SECONDS, where
    else:
        assert not ports, where
        assert pod_spec(doc)["restartPolicy"] in {"Never", "OnFailure"}
        assert doc["spec"].get("ttlSecondsAfterFinished"), "a finished Job blocks the next release's apply"


def test_nothing_runs_that_the_code_does_not_define(rendered):
    overlay, docs = rendered
    defined = {(p.kind, p.name) for p in PROCESSES}
    running = {(d["kind"], d["metadata"]["name"]) for d in docs if d["kind"] in {"Deployment", "Job"}}
    assert running == defined, (
        f"{overlay}: deployed but not in the code {running - defined}; missing {defined - running}"
    )


def test_workloads_are_hardened_and_bounded(rendered):
    overlay, docs = rendered
    for doc in by_kind(docs, "Deployment") + by_kind(docs, "Job"):
        spec = pod_spec(doc)
        pod_sc = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False
        assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"] + spec.get("initContainers", []):
            where = f"{overlay}: {doc['kind']}/{doc['metadata']['name']}/{container['name']}"
            sc = container.get("securityContext", {})
            assert container["image"].startswith(IMAGE_REPOSITORY + ":"), where
            assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, f"{where}: may run as root"
            assert sc.get("runAsUser", pod_sc.get("runAsUser")) == UID, f"{where}: not uid {UID}"
            assert sc.get("readOnlyRootFilesystem") is True, f"{where}: writable root filesystem"
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not sc.get("privileged"), where
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]], f"{where}: no writable /tmp"


def test_one_image_for_every_process_pinned_outside_the_base(rendered):
    overlay, docs = rendered
    images = {c["image"] for p in PROCESSES for c in pod_spec(workload(docs, p))["containers"]}
    assert len(images) == 1, f"{overlay}: processes run different images: {images}"
    (image,) = images
    tag = image.rpartition(":")[2]
    assert tag == "latest" if overlay == "base" else tag not in {"", "latest"}, image


@pytest.mark.parametrize("process", PROCESSES, ids=PROCESS_IDS)
def test_configuration_comes_from_config_maps_and_the_secret(rendered, process):
    overlay, docs = rendered
    (container,) = pod_spec(workload(docs, process))["containers"]
    refs = [s["configMapRef"]["name"] for s in container.get("envFrom", []) if "configMapRef" in s]
    assert config_map_named(docs, SHARED_CONFIG_MAP)["metadata"]["name"] in refs
    env = env_of(container)
    secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in env.values() if "secretKeyRef" in e.get("valueFrom", {})}
    assert secrets <= {f"{process.service}-secrets"}, f"{process.name} reads another service's Secret {secrets}"
    if process.has_data:
        database = f"{process.service.upper()}_DATABASE_URL"
        for variable, key in {database: "DATABASE_URL", "BROKER_URL": "BROKER_URL"}.items():
            assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": f"{process.service}-secrets", "key": key}
    literal = {k: e["value"] for k, e in env.items() if "value" in e}
    assert not any(re.search(r"://[^/@\s]+:[^/@\s]+@", v) for v in literal.values()), f"{process.name}: a credential"


@pytest.mark.parametrize("process", PROCESSES, ids=PROCESS_IDS)
def test_every_variable_a_process_is_given_is_read_by_its_code(rendered, process):
    """A misspelt or dead setting fails here; platform-config's must be read by some service."""
    overlay, docs = rendered
    (container,) = pod_spec(workload(docs, process))["containers"]
    shared = set(config_map_named(docs, SHARED_CONFIG_MAP)["data"])
    unread = variables_given(docs, container) - variables_read_by(process.service) - shared
    assert not unread, f"{overlay}: {process.name} is given {sorted(unread)}, which its code never reads"
    assert not shared - variables_read_by_any_service(), (
        f"platform-config sets {shared - variables_read_by_any_service()}"
    )


def test_only_the_apis_accept_connections_through_a_service(rendered):
    _, docs = rendered
    expected = sorted(p.name for p in PROCESSES if p.component == "api")
    assert sorted(s["metadata"]["name"] for s in by_kind(docs, "Service")) == expected


@pytest.mark.parametrize("process", [p for p in PROCESSES if p.component == "api"], ids=lambda p: p.name)
def test_each_api_has_a_service_a_pdb_and_an_hpa_of_its_own(rendered, process):
    _, docs = rendered
    api = workload(docs, process)
    labels = pod_labels(api)
    others = [pod_labels(workload(docs, p)) for p in PROCESSES if p != process]
    service = one(docs, "Service", process.name)
    assert selects({"matchLabels": service["spec"]["selector"]}, labels)
    assert not any(selects({"matchLabels": service["spec"]["selector"]}, pod) for pod in others)
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("http", 80, "http")
    pdb = one(docs, "PodDisruptionBudget", process.name)
    assert selects(pdb["spec"]["selector"], labels) and not any(selects(pdb["spec"]["selector"], o) for o in others)
    hpa = one(docs, "HorizontalPodAutoscaler", process.name)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": process.name}
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert "replicas" not in api["spec"], "the HPA owns the API's replica count"


@pytest.mark.parametrize("service", SERVICES)
def test_consumers_scale_on_their_queues_and_relays_and_jobs_have_fixed_counts(rendered, service):
    overlay, docs = rendered
    autoscaled = {d["spec"]["scaleTargetRef"]["name"] for d in by_kind(docs, "HorizontalPodAutoscaler")}
    for part in ("relay", "jobs"):
        name = f"{service}-{part}"
        assert one(docs, "Deployment", name)["spec"]["replicas"] >= 1 and name not in autoscaled
    if not queues_of(service):
        return
    name = f"{service}-consumer"
    assert "replicas" not in one(docs, "Deployment", name)["spec"], "KEDA owns the consumer's replica count"
    assert name not in autoscaled, "KEDA makes the consumer's HPA: another one would fight it"
    scaled = one(docs, "ScaledObject", name)
    assert scaled["spec"]["scaleTargetRef"]["name"] == name
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
    triggers = scaled["spec"]["triggers"]
    assert {t["type"] for t in triggers} == {"rabbitmq"}
    assert sorted(t["metadata"]["queueName"] for t in triggers) == queues_of(service), (
        f"{name} must scale on every queue the topology gives {service} (shared/messaging/topology.py)"
    )
    assert {t["metadata"]["mode"] for t in triggers} == {"QueueLength"}
    for trigger in triggers:
        auth = one(docs, "TriggerAuthentication", trigger["authenticationRef"]["name"])
        assert auth["spec"]["secretTargetRef"] == [
            {"parameter": "host", "name": f"{service}-secrets", "key": "BROKER_URL"}
        ]
    one(docs, "PodDisruptionBudget", name)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_its_database_backup_and_pooler(rendered, service):
    overlay, docs = rendered
    cluster = one(docs, "Cluster", f"{service}-db")
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] == service
    assert cluster["spec"]["bootstrap"]["initdb"]["owner"] == service
    assert cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"]
    assert cluster["spec"]["instances"] == {"development": 1, "production": 3}.get(overlay, 1)
    backup = one(docs, "ScheduledBackup", f"{service}-db-daily")
    assert backup["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    pooler = one(docs, "Pooler", f"{service}-db-pooler")
    assert pooler["spec"]["cluster"]["name"] == cluster["metadata"]["name"] and pooler["spec"]["type"] == "rw"
    # Each of the service's processes may reach its pooler, and no other service's.
    pooler_pod = {"cnpg.io/poolerName": f"{service}-db-pooler"}
    for process in PROCESSES:
        labels = pod_labels(workload(docs, process))
        assert may_reach(docs, labels, pooler_pod, 5432) == (process.service == service), (
            f"{overlay}: {process.name} and {service}'s database"
        )
    assert may_reach(docs, pooler_pod, {"cnpg.io/cluster": f"{service}-db"}, 5432)


def test_rabbitmq_is_a_cluster_of_three_in_production(rendered):
    overlay, docs = rendered
    broker = one(docs, "RabbitmqCluster", BROKER)
    assert broker["spec"]["replicas"] == (1 if overlay == "development" else 3)
    assert "pause_minority" in broker["spec"]["rabbitmq"]["additionalConfig"]
    pod = {"app.kubernetes.io/name": BROKER}
    for process in PROCESSES:
        labels = pod_labels(workload(docs, process))
        expected = process.has_data and process.component != "migrate"
        assert may_reach(docs, labels, pod, 5672) == expected, f"{overlay}: {process.name} and the broker"


def test_quorum_queues_are_what_the_services_declare():
    from shared.messaging.topology import Topology

    topology = Topology(subscriptions=SUBSCRIPTIONS)
    for sub in SUBSCRIPTIONS:
        arguments = topology.work_queue_arguments(sub)
        assert arguments["x-queue-type"] == "quorum" and arguments["x-delivery-limit"] >= 1


def test_network_policies_deny_by_default_in_both_directions(rendered):
    _, docs = rendered
    deny = [p for p in by_kind(docs, "NetworkPolicy") if p["spec"]["podSelector"] == {}]
    types = {
        t
        for p in deny
        if not p["spec"].get("ingress") and not p["spec"].get("egress")
        for t in p["spec"]["policyTypes"]
    }
    assert types == {"Ingress", "Egress"}, "no default deny for the namespace"
    # The portal reaches the APIs it calls (those its settings name), and nothing reaches a migration job.
    portal = next(p for p in PROCESSES if p.service == PORTAL)
    settings = config_map_named(docs, "portal-config")["data"]
    called = {p.service for p in PROCESSES if f"PORTAL_{p.service.upper()}_URL" in settings}
    assert called == {"content", "scheduling", "coaching", "notifications"}
    for api in (p for p in PROCESSES if p.component == "api" and p.service != PORTAL):
        reaches = may_reach(docs, pod_labels(workload(docs, portal)), pod_labels(workload(docs, api)), API_PORT)
        assert reaches == (api.service in called), api.name


def test_the_ingress_routes_each_api_by_its_name_and_the_portal_at_the_root(rendered):
    _, docs = rendered
    routes = {}
    for ingress in by_kind(docs, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                routes[path["path"]] = (path["backend"]["service"]["name"], ingress["metadata"].get("annotations", {}))
    assert routes["/"][0] == PORTAL
    for service in INGRESS_PATHS:
        (path,) = [p for p in routes if p.startswith(f"/{service}(")]
        backend, annotations = routes[path]
        assert backend == f"{service}-api"
        assert annotations["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2", "the API is served at its root"


def test_public_urls_are_the_ingress_paths(rendered):
    _, docs = rendered
    (host,) = {rule["host"] for ingress in by_kind(docs, "Ingress") for rule in ingress["spec"]["rules"]}
    assert config_map_named(docs, "scheduling-config")["data"]["SCHEDULING_PUBLIC_URL"] == f"https://{host}/scheduling"
    assert config_map_named(docs, "notifications-config")["data"]["NOTIFICATIONS_PUBLIC_URL"] == (
        f"https://{host}/notifications"
    )
    assert config_map_named(docs, "portal-config")["data"]["PORTAL_PUBLIC_URL"] == f"https://{host}"


def test_production_scales_up():
    docs = render(OVERLAYS["production"])
    for process in PROCESSES:
        if process.component == "api":
            assert one(docs, "HorizontalPodAutoscaler", process.name)["spec"]["minReplicas"] >= 2, process.name
        elif process.component == "consumer":
            assert one(docs, "ScaledObject", process.name)["spec"]["minReplicaCount"] >= 1, process.name
        elif process.component == "relay":
            assert one(docs, "Deployment", process.name)["spec"]["replicas"] >= 2, process.name
    for pooler in by_kind(docs, "Pooler"):
        assert pooler["spec"]["instances"] >= 2


# --------------------------------------------------------------------------- docker compose


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def image_environment() -> dict[str, str]:
    """The platform's settings the image sets (not the interpreter's own: PATH, PYTHON*)."""
    pairs = {}
    for instruction, args in dockerfile_instructions(final_stage=True):
        if instruction == "ENV":
            pairs |= dict(re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", args))
    return {k: v for k, v in pairs.items() if k != "PATH" and not k.startswith("PYTHON")}


def test_compose_file_matches_the_compose_specification():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("process", PROCESSES, ids=PROCESS_IDS)
def test_compose_kubernetes_and_the_image_run_the_same_process_with_the_same_variables(compose, process):
    docs = render(OVERLAYS["base"])
    (container,) = pod_spec(workload(docs, process))["containers"]
    service = compose["services"][process.name]
    assert argv(service["command"]) == container["command"] == list(process.command), process.name
    image = set(image_environment())
    # Compared on what the process reads: platform-config gives every pod the platform's shared
    # settings, of which the portal reads only some.
    reads = variables_read_by(process.service)
    in_compose = (set(service.get("environment", {})) | image) & reads
    in_kubernetes = (variables_given(docs, container) | image) & reads
    assert in_compose == in_kubernetes, (
        f"{process.name}: only in docker-compose.yml {sorted(in_compose - in_kubernetes)}, "
        f"only in deploy/k8s {sorted(in_kubernetes - in_compose)}"
    )
    unread = (
        set(service.get("environment", {}))
        - variables_read_by(process.service)
        - set(config_map_named(docs, SHARED_CONFIG_MAP)["data"])
    )
    assert not unread, f"docker-compose.yml: {process.name} sets {sorted(unread)}, which its code never reads"
    assert not image - variables_read_by_any_service(), "the Dockerfile sets a variable no code reads"


def test_compose_topology(compose):
    services = compose["services"]
    postgres, rabbitmq = services["postgres"], services["rabbitmq"]
    assert re.fullmatch(r"postgres:\d+\.\d+", postgres["image"]), "pin PostgreSQL's exact version"
    assert re.fullmatch(r"rabbitmq:\d+\.\d+\.\d+-management", rabbitmq["image"]), "RabbitMQ with management, pinned"
    for backend in (postgres, rabbitmq):
        assert backend["healthcheck"]["test"]
    init = [v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert len(init) == 1, "the databases are created by an init script"
    script = (REPO / init[0].split(":")[0]).read_text()
    for service in SERVICES:
        assert re.search(rf"\b{service}\b", script), f"the init script creates no database {service}"
    for process in PROCESSES:
        spec = services[process.name]
        where = f"docker-compose.yml: {process.name}"
        assert spec["image"] == "${T4T_IMAGE:-t4t-platform:local}", where
        depends = spec.get("depends_on", {})
        if process.component == "migrate":
            assert spec["restart"] == "no" and depends["postgres"]["condition"] == "service_healthy", where
            continue
        assert spec["restart"] == "unless-stopped", where
        assert spec["healthcheck"]["test"], f"{where}: no health check"
        if process.has_data:
            url = spec["environment"][f"{process.service.upper()}_DATABASE_URL"]
            assert url.endswith(f"@postgres:5432/{process.service}"), f"{where}: not its own database"
            assert depends[f"{process.service}-migrate"]["condition"] == "service_completed_successfully", where
            assert depends["postgres"]["condition"] == depends["rabbitmq"]["condition"] == "service_healthy", where
        if process.component == "api":
            assert "/healthz" in " ".join(spec["healthcheck"]["test"])
        else:
            assert not spec.get("ports"), f"{where}: a worker's metrics stay inside the compose network"
    assert services["smtp-sink"]["command"] == "python -m services.notifications.sink"
    named = set(compose["volumes"])
    for spec in services.values():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") or source in named, f"{volume}: not a named volume"


def test_compose_host_ports_are_distinct(compose):
    published = [str(p).rsplit(":", 1)[0] for s in compose["services"].values() for p in s.get("ports", [])]
    assert len(published) == len(set(published)), f"a host port is published twice: {published}"


# --------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions(final_stage: bool = False) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            if final_stage and instruction.upper() == "FROM":
                pairs = []
            pairs.append((instruction.upper(), rest.strip()))
    return pairs


def test_dockerfile_is_multi_stage_pinned_non_root_and_without_build_tools():
    instructions = dockerfile_instructions()
    froms = [args.split()[0] for ins, args in instructions if ins == "FROM"]
    assert len(froms) == 2, "a build stage and a runtime stage"
    for base in froms:
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", base), f"unpinned base {base}"
    assert len(set(froms)) == 1, "both stages on the same base"
    final = dockerfile_instructions(final_stage=True)
    users = [args for ins, args in final if ins == "USER"]
    assert users and users[-1].split(":")[0] == str(UID)
    installs = " ".join(args for ins, args in final if ins == "RUN")
    for tool in ("gcc", "build-essential", "make", "git", "-dev "):
        assert tool not in installs, f"the runtime stage installs {tool}"
    assert [args for ins, args in final if ins == "COPY"] == ["--from=build /opt/venv /opt/venv"]
    runs = " ".join(args for ins, args in instructions if ins == "RUN")
    assert re.search(r"pip install --no-cache-dir \.(\s|$)", runs) and "-c constraints.txt" in runs
    assert "[dev]" not in runs and "-e " not in runs, "no dev extras, no editable install"


def test_dockerfile_default_command_is_one_of_the_code_s_processes():
    (cmd,) = [args for ins, args in dockerfile_instructions() if ins == "CMD"]
    command = json.loads(cmd)
    assert tuple(command) in {p.command for p in PROCESSES}, command


def test_dockerignore_keeps_local_state_out_of_the_context():
    ignored = {line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()}
    for entry in (".git", ".venv", "var", "**/__pycache__", ".pytest_cache"):
        assert entry in ignored, f".dockerignore should exclude {entry}"
    for needed in ("pyproject.toml", "constraints.txt", "shared", "services"):
        assert needed not in ignored


def test_the_migrations_can_be_applied_before_the_rollout(rendered):
    """docs/deploy.md applies `-l 'app.kubernetes.io/component in (config,migrate)'` first: that must
    hold every Job and every ConfigMap the Jobs read, and no Deployment."""
    _, docs = rendered
    first = [
        d for d in docs if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") in {"config", "migrate"}
    ]
    kinds = {d["kind"] for d in first}
    assert kinds == {"ConfigMap", "Job", "NetworkPolicy"}, kinds
    applied = {d["metadata"]["name"] for d in first}
    for process in (p for p in PROCESSES if p.component == "migrate"):
        assert process.name in applied
        (container,) = pod_spec(workload(docs, process))["containers"]
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"] in applied, f"{process.name} would wait for its ConfigMap"
