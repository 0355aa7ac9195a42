"""Offline checks of the deployment artefacts: Kubernetes manifests, docker-compose.yml, Dockerfile.

Nothing here needs a network, a cluster or a Docker engine: kustomize renders locally
(``kubectl kustomize``), kubernetes-validate and check-jsonschema ship their schemas.
Every check that concerns a service's processes runs for each service of ``SERVICES``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from shared.messaging.topology import SUBSCRIPTIONS

# The Kubernetes API version the manifests are validated against (kubernetes-validate ships
# its schemas). Raise it deliberately, together with the clusters we deploy to.
KUBERNETES_VERSION = "1.32.0"

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = {"base": BASE, "production": K8S / "overlays" / "production"}
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
# Processes of make run and docker-compose.yml that no cluster runs: the local mail sink.
DEVELOPMENT_ONLY = {"smtp-sink"}


@dataclass(frozen=True)
class Service:
    """What the deployment of one service must look like."""

    name: str
    compose_api_port: int  # host port of its API in docker-compose.yml
    config_map: str | None = None  # its own ConfigMap besides platform-config, if any
    config_keys: frozenset[str] = frozenset()  # settings that ConfigMap must carry
    api_files_claim: str | None = None  # PersistentVolumeClaim its API mounts at /data/files
    optional_secret_keys: frozenset[str] = frozenset()  # keys its Secret may carry besides SECRET_KEYS

    @property
    def secret(self) -> str:
        return f"{self.name}-secrets"

    @property
    def database_variable(self) -> str:
        return f"{self.name.upper()}_DATABASE_URL"

    @property
    def components(self) -> dict[str, str]:
        """component -> workload (and compose service) name."""
        return {c: f"{self.name}-{c}" for c in ("api", "worker", "migrate")}

    @property
    def consumes_events(self) -> bool:
        return any(sub.consumer == self.name for sub in SUBSCRIPTIONS)

    @property
    def queues(self) -> list[str]:
        return [sub.queue for sub in SUBSCRIPTIONS if sub.consumer == self.name]


SERVICES: dict[str, Service] = {
    "content": Service("content", compose_api_port=8001, api_files_claim="content-files"),
    "scheduling": Service(
        "scheduling",
        compose_api_port=8002,
        config_map="scheduling-config",
        config_keys=frozenset({"SCHEDULING_PUBLIC_URL", "ATTENDANCE_OPENS_MINUTES", "SCHEDULING_MAX_ROSTER_BYTES"}),
    ),
    "notifications": Service(
        "notifications",
        compose_api_port=8004,
        config_map="notifications-config",
        config_keys=frozenset({"NOTIFICATIONS_PUBLIC_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "MAIL_FROM"}),
        optional_secret_keys=frozenset({"SMTP_USERNAME", "SMTP_PASSWORD"}),
    ),
    "coaching": Service(
        "coaching",
        compose_api_port=8003,
        config_map="coaching-config",
        config_keys=frozenset({"COACHING_CHECK_INTERVAL_SECONDS"}),
    ),
}
# The portal (services/portal/): the web pages people use. One process, an HTTP server on port 8000
# (labelled as an API component for the network policies), with no database, broker or worker; the
# same name in the Procfile, docker-compose.yml and deploy/k8s/.
PORTAL = "portal"
ALL_PROCESSES = [(svc, comp, name) for svc in SERVICES.values() for comp, name in svc.components.items()]


def kind_of(component: str) -> str:
    return "Job" if component == "migrate" else "Deployment"


# --------------------------------------------------------------------------- helpers


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
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("kubectl is required in CI to render the kustomizations")
        pytest.skip("kubectl is not installed: rendering skipped (with CI=true this fails)")
    result = subprocess.run(
        [kubectl, "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay.relative_to(REPO)} failed:\n{result.stderr}"
    return load_all(result.stdout)


def validate(doc: dict, where: str) -> None:
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = "/".join(str(p) for p in exc.path)
        pytest.fail(f"{where}: {name} is invalid for Kubernetes {KUBERNETES_VERSION} at {path}: {exc.message}")
    except kubernetes_validate.SchemaNotFoundError as exc:
        pytest.fail(f"{where}: {name}: {exc.message}")


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


def workload(docs: list[dict], component: str, name: str) -> dict:
    return one(docs, kind_of(component), name)


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


def config_map_named(docs: list[dict], name: str) -> dict:
    """A generated ConfigMap by its name before kustomize appended the content hash."""
    found = [
        c
        for c in by_kind(docs, "ConfigMap")
        if re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]{{10}})?", c["metadata"]["name"])
    ]
    assert len(found) == 1, f"expected one ConfigMap {name}, found {[c['metadata']['name'] for c in found]}"
    return found[0]


def ingress_ports_admitted(docs: list[dict], labels: dict) -> set:
    """The ports some NetworkPolicy lets other pods reach on a pod with ``labels``."""
    return {
        port.get("port")
        for policy in by_kind(docs, "NetworkPolicy")
        if selects(policy["spec"]["podSelector"], labels)
        for rule in policy["spec"].get("ingress", [])
        for port in rule.get("ports", [{"port": "ANY"}])
    }


def variables_read_by_the_code() -> set[str]:
    """Environment variable names the platform's code reads (quoted literally), plus the
    per-service ``<SERVICE>_DATABASE_URL`` / ``<SERVICE>_DB_SCHEMA`` / ``<SERVICE>_PUBLIC_URL`` /
    ``<SERVICE>_PORT`` that shared/config.py builds."""
    names: set[str] = set()
    for folder in ("shared", "services"):
        for path in (REPO / folder).rglob("*.py"):
            names |= set(re.findall(r"""["']([A-Z][A-Z0-9_]{2,})["']""", path.read_text()))
    for service in SERVICES:
        names |= {f"{service.upper()}_{name}" for name in ("DATABASE_URL", "DB_SCHEMA", "PUBLIC_URL", "PORT")}
    return names


# --------------------------------------------------------------------------- Kubernetes


def test_kubernetes_version_is_shipped_by_kubernetes_validate():
    from kubernetes_validate.utils import all_versions, major_minor

    assert major_minor(KUBERNETES_VERSION) in {major_minor(v) for v in all_versions()}


def test_every_service_of_the_repository_is_deployed():
    """A service (a package with a WSGI app under services/) without manifests fails here."""
    services = {path.parent.name for path in (REPO / "services").glob("*/wsgi.py")}
    assert services == set(SERVICES) | {PORTAL}, (
        f"services in the repository {sorted(services)} vs deployed here {sorted(SERVICES)}: "
        "add the new service's folder under deploy/k8s/base/, its compose services and a row in SERVICES"
    )
    for service in [*SERVICES, PORTAL]:
        assert BASE / service in kustomizations(), f"deploy/k8s/base/{service} is not in the base kustomization"


def test_base_resource_files_validate_without_kustomize():
    """Every file the base's kustomizations list is valid on its own (this needs no kubectl)."""
    files = resource_files()
    assert files
    for path in files:
        for doc in load_all(path.read_text()):
            validate(doc, str(path.relative_to(K8S)))


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_secret_example_is_documented_but_never_rendered(service):
    example_file = BASE / service.name / "secret.example.yaml"
    assert example_file.resolve() not in resource_files(), f"{example_file.relative_to(K8S)} must not be a resource"
    (example,) = load_all(example_file.read_text())
    validate(example, str(example_file.relative_to(K8S)))
    assert example["metadata"]["name"] == service.secret
    assert example["metadata"]["namespace"] == NAMESPACE
    assert set(example["stringData"]) == SECRET_KEYS | service.optional_secret_keys
    assert all("CHANGE-ME" in value for value in example["stringData"].values())


@pytest.fixture(scope="module", params=sorted(OVERLAYS))
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render(OVERLAYS[request.param])


def test_rendered_documents_validate(rendered):
    overlay, docs = rendered
    assert docs, f"{overlay} renders nothing"
    for doc in docs:
        validate(doc, overlay)


def test_every_document_is_labelled_and_namespaced(rendered):
    overlay, docs = rendered
    for doc in docs:
        meta = doc["metadata"]
        where = f"{overlay}: {doc['kind']}/{meta['name']}"
        assert meta.get("labels", {}).get("app.kubernetes.io/part-of") == PART_OF, where
        if doc["kind"] == "Namespace":
            assert meta["name"] == NAMESPACE, where
        else:
            assert meta.get("namespace") == NAMESPACE, where


def test_no_secret_is_committed(rendered):
    overlay, docs = rendered
    assert by_kind(docs, "Secret") == [], f"{overlay} renders a Secret: secrets are created out of band"


def test_shared_resources_exist_once(rendered):
    """The namespace and platform-config are rendered once, whatever the number of services."""
    _, docs = rendered
    assert [n["metadata"]["name"] for n in by_kind(docs, "Namespace")] == [NAMESPACE]
    config_map_named(docs, SHARED_CONFIG_MAP)
    ids = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(ids) == len(set(ids)), f"rendered twice: {sorted({i for i in ids if ids.count(i) > 1})}"


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_expected_resources_exist(rendered, service):
    _, docs = rendered
    api = service.components["api"]
    for kind, name in [
        ("Deployment", api),
        ("Service", api),
        ("HorizontalPodAutoscaler", api),
        ("PodDisruptionBudget", api),
        ("Deployment", service.components["worker"]),
        ("Job", service.components["migrate"]),
    ]:
        one(docs, kind, name)
    if service.api_files_claim:
        one(docs, "PersistentVolumeClaim", service.api_files_claim)
    if service.config_map:
        data = config_map_named(docs, service.config_map).get("data", {})
        assert service.config_keys <= set(data), f"{service.config_map} lacks {service.config_keys - set(data)}"


def test_only_the_apis_accept_connections_through_a_service(rendered):
    _, docs = rendered
    assert sorted(s["metadata"]["name"] for s in by_kind(docs, "Service")) == sorted(
        [*(svc.components["api"] for svc in SERVICES.values()), PORTAL]
    )


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_workloads_are_labelled_by_component(rendered, service):
    _, docs = rendered
    for component, name in service.components.items():
        doc = workload(docs, component, name)
        for labels in (doc["metadata"]["labels"], pod_labels(doc)):
            assert labels["app.kubernetes.io/name"] == service.name
            assert labels["app.kubernetes.io/component"] == component
            assert labels["app.kubernetes.io/part-of"] == PART_OF


def test_workloads_are_hardened_and_bounded(rendered):
    overlay, docs = rendered
    workloads = by_kind(docs, "Deployment") + by_kind(docs, "Job")
    assert {w["metadata"]["name"] for w in workloads} >= {name for _, _, name in ALL_PROCESSES}
    for doc in workloads:
        spec = pod_spec(doc)
        pod_sc = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False
        assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"] + spec.get("initContainers", []):
            where = f"{overlay}: {doc['kind']}/{doc['metadata']['name']}/{container['name']}"
            sc = container.get("securityContext", {})
            resources = container.get("resources", {})
            assert resources.get("limits", {}).get("memory"), f"{where}: no memory limit"
            assert resources.get("requests", {}).get("memory"), f"{where}: no memory request"
            assert resources.get("requests", {}).get("cpu"), f"{where}: no cpu request"
            assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, f"{where}: may run as root"
            assert sc.get("runAsUser", pod_sc.get("runAsUser")) == UID, f"{where}: not uid {UID}"
            assert sc.get("readOnlyRootFilesystem") is True, f"{where}: writable root filesystem"
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not sc.get("privileged"), where
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]], (
                f"{where}: a read-only root needs a writable /tmp"
            )


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_api_probes_ports_and_storage(rendered, service):
    _, docs = rendered
    api = one(docs, "Deployment", service.components["api"])
    (container,) = pod_spec(api)["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": API_PORT}

    def probe_target(probe: str) -> tuple[str, int]:
        http = container[probe]["httpGet"]
        port = http["port"]
        return http["path"], ports.get(port, port)

    assert probe_target("readinessProbe") == ("/readyz", API_PORT)
    assert probe_target("livenessProbe") == ("/healthz", API_PORT)
    assert probe_target("startupProbe") == ("/healthz", API_PORT)
    assert container["resources"]["limits"]["memory"] == "256Mi"
    annotations = api["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true"
    assert annotations.get("prometheus.io/port") == str(API_PORT)

    env = env_of(container)
    assert env["PROMETHEUS_MULTIPROC_DIR"]["value"] == "/tmp/prom"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(api)["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp/prom"]]
    if service.api_files_claim:
        assert env[f"{service.name.upper()}_STORAGE_DIR"]["value"] == "/data/files"
        assert volumes[mounts["/data/files"]]["persistentVolumeClaim"]["claimName"] == service.api_files_claim
    else:
        assert "/data/files" not in mounts
        assert not any("persistentVolumeClaim" in v for v in volumes.values())


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_worker_serves_metrics_and_the_job_no_port(rendered, service):
    _, docs = rendered
    worker = one(docs, "Deployment", service.components["worker"])
    (container,) = pod_spec(worker)["containers"]
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    assert ports == {"metrics": WORKER_METRICS_PORT}, "a worker's only port is its metrics port"
    assert env_of(container)["WORKER_METRICS_PORT"]["value"] == str(WORKER_METRICS_PORT)
    annotations = worker["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true"
    assert annotations.get("prometheus.io/port") == str(WORKER_METRICS_PORT)
    assert annotations.get("prometheus.io/path") == "/metrics"
    assert "/data/files" not in {m["mountPath"] for m in container.get("volumeMounts", [])}

    job = one(docs, "Job", service.components["migrate"])
    for container in pod_spec(job)["containers"]:
        assert not container.get("ports")
        assert "/data/files" not in {m["mountPath"] for m in container.get("volumeMounts", [])}


def test_one_image_for_every_process(rendered):
    overlay, docs = rendered
    images = {
        name: [c["image"] for c in pod_spec(workload(docs, comp, name))["containers"]]
        for _, comp, name in ALL_PROCESSES
    }
    distinct = {image for found in images.values() for image in found}
    assert len(distinct) == 1, f"{overlay}: processes run different images: {images}"
    (image,) = distinct
    repository, _, tag = image.rpartition(":")
    assert repository == IMAGE_REPOSITORY
    if overlay == "base":
        assert tag == "latest"
    else:
        assert tag and tag != "latest", f"{overlay} must pin the image tag, got {image}"


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_configuration_comes_from_config_maps_and_the_secret(rendered, service):
    _, docs = rendered
    config_maps = {c["metadata"]["name"] for c in by_kind(docs, "ConfigMap")}
    shared = config_map_named(docs, SHARED_CONFIG_MAP)["metadata"]["name"]
    own = config_map_named(docs, service.config_map)["metadata"]["name"] if service.config_map else None
    for component, name in service.components.items():
        for container in pod_spec(workload(docs, component, name))["containers"]:
            refs = [s["configMapRef"]["name"] for s in container.get("envFrom", []) if "configMapRef" in s]
            assert refs and set(refs) <= config_maps, f"{name}: envFrom names a missing ConfigMap"
            assert shared in refs, f"{name}: does not read {SHARED_CONFIG_MAP}"
            if own:
                assert own in refs, f"{name}: does not read {service.config_map}"
            env = env_of(container)
            for variable, key in {service.database_variable: "DATABASE_URL", "BROKER_URL": "BROKER_URL"}.items():
                ref = env[variable]["valueFrom"]["secretKeyRef"]
                assert ref == {"name": service.secret, "key": key}, f"{name}: {variable} not from {service.secret}"
            literal = {k: e["value"] for k, e in env.items() if "value" in e}
            assert not any(re.search(r"://[^/@\s]+:[^/@\s]+@", v) for v in literal.values()), (
                f"{name}: a credential is written into the manifest"
            )
            other_secrets = {
                e["valueFrom"]["secretKeyRef"]["name"] for e in env.values() if "secretKeyRef" in e.get("valueFrom", {})
            } - {service.secret}
            assert not other_secrets, f"{name}: reads another service's Secret {other_secrets}"


def test_every_configured_variable_is_read_by_the_code(rendered):
    """A misspelt or dead setting in a ConfigMap or an env list fails here."""
    overlay, docs = rendered
    known = variables_read_by_the_code()
    for config_map in by_kind(docs, "ConfigMap"):
        unknown = set(config_map.get("data", {})) - known
        assert not unknown, f"{overlay}: ConfigMap {config_map['metadata']['name']} sets unread {unknown}"
    for _, component, name in ALL_PROCESSES:
        for container in pod_spec(workload(docs, component, name))["containers"]:
            unknown = set(env_of(container)) - known
            assert not unknown, f"{overlay}: {name} sets unread {unknown}"


def test_public_url_is_an_absolute_https_address(rendered):
    _, docs = rendered
    url = config_map_named(docs, "scheduling-config")["data"]["SCHEDULING_PUBLIC_URL"]
    assert re.fullmatch(r"https://[a-z0-9.-]+(:\d+)?(/[^\s]*)?", url), url
    assert not url.endswith("/"), "links are built by appending paths to it"


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_process_commands_name_existing_modules(rendered, service):
    overlay, docs = rendered
    for component, name in service.components.items():
        (container,) = pod_spec(workload(docs, component, name))["containers"]
        assert_modules_exist(container["command"], f"{overlay}: {name}")
        assert all(
            module.startswith(("shared.", f"services.{service.name}."))
            for module, _ in modules_run_by(container["command"])
        ), f"{name} runs another service's code"


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_migration_job_migrates_then_seeds(rendered, service):
    _, docs = rendered
    job = one(docs, "Job", service.components["migrate"])
    (container,) = pod_spec(job)["containers"]
    script = " ".join(container["command"])
    assert script.index(f"services.{service.name}.manage migrate") < script.index(
        f"services.{service.name}.manage seed"
    )
    assert "&&" in script, "seed must not run when migrate fails"
    assert pod_spec(job)["restartPolicy"] in {"Never", "OnFailure"}
    assert job["spec"].get("ttlSecondsAfterFinished"), "a finished Job blocks the next release's apply"


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_service_pdb_and_hpa_target_the_api_alone(rendered, service):
    _, docs = rendered
    api_name = service.components["api"]
    api = one(docs, "Deployment", api_name)
    api_labels = pod_labels(api)
    # Every other pod of the platform, of this service or another.
    other_pods = [pod_labels(workload(docs, comp, name)) for _, comp, name in ALL_PROCESSES if name != api_name]

    svc = one(docs, "Service", api_name)
    assert selects({"matchLabels": svc["spec"]["selector"]}, api_labels)
    assert not any(selects({"matchLabels": svc["spec"]["selector"]}, pod) for pod in other_pods)
    (port,) = svc["spec"]["ports"]
    assert port["port"] == 80
    assert port["targetPort"] in {API_PORT, "http"}

    pdb = one(docs, "PodDisruptionBudget", api_name)
    assert selects(pdb["spec"]["selector"], api_labels)
    assert not any(selects(pdb["spec"]["selector"], pod) for pod in other_pods)

    hpa = one(docs, "HorizontalPodAutoscaler", api_name)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": api_name}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert "replicas" not in api["spec"], "the HPA owns the API's replica count"


def test_network_policies_deny_by_default_and_open_only_the_known_ports(rendered):
    _, docs = rendered
    default_deny = [
        p
        for p in by_kind(docs, "NetworkPolicy")
        if p["spec"]["podSelector"] == {} and "Ingress" in p["spec"]["policyTypes"] and not p["spec"].get("ingress")
    ]
    assert default_deny, "no default-deny ingress policy for the namespace"
    expected = {"api": {API_PORT}, "worker": {WORKER_METRICS_PORT}, "migrate": set()}
    for _, component, name in ALL_PROCESSES:
        admitted = ingress_ports_admitted(docs, pod_labels(workload(docs, component, name)))
        assert admitted == expected[component], (
            f"{name}: ingress admitted on {admitted}, expected {expected[component]}"
        )


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_event_consumers_scale_and_relays_have_fixed_counts(rendered, service):
    """A worker that consumes events is scaled by an autoscaler (a KEDA ScaledObject on queue depth
    once its CRD schema is vendored in deploy/k8s/; an HPA until then); a worker that
    only relays the outbox has a fixed count."""
    _, docs = rendered
    name = service.components["worker"]
    worker = one(docs, "Deployment", name)
    scalers = [
        d
        for d in docs
        if d["kind"] in {"HorizontalPodAutoscaler", "ScaledObject"} and d["spec"]["scaleTargetRef"]["name"] == name
    ]
    if service.consumes_events:
        assert len(scalers) == 1, f"{name} consumes {service.queues}: exactly one autoscaler, found {len(scalers)}"
        assert "replicas" not in worker["spec"], f"the autoscaler owns {name}'s replica count"
        (scaler,) = scalers
        if scaler["kind"] == "HorizontalPodAutoscaler":
            assert scaler["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
            assert 1 <= scaler["spec"]["minReplicas"] <= scaler["spec"]["maxReplicas"]
    else:
        assert not scalers, f"{name} consumes no events: nothing to scale it on"
        assert worker["spec"].get("replicas", 1) >= 1


def test_production_overlay_scales_up():
    docs = render(OVERLAYS["production"])
    for service in SERVICES.values():
        assert one(docs, "HorizontalPodAutoscaler", service.components["api"])["spec"]["minReplicas"] >= 2
        worker = service.components["worker"]
        if service.consumes_events:
            assert one(docs, "HorizontalPodAutoscaler", worker)["spec"]["minReplicas"] >= 2
        else:
            assert one(docs, "Deployment", worker)["spec"]["replicas"] >= 2


# --------------------------------------------------------------------------- docker compose


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def base_workloads() -> list[dict]:
    return load_all("\n---\n".join(path.read_text() for path in resource_files()))


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


def test_compose_commands_name_existing_modules(compose):
    for _, _, name in ALL_PROCESSES:
        assert_modules_exist(compose["services"][name]["command"], f"docker-compose.yml: {name}")


def test_compose_and_kubernetes_run_the_same_commands(compose):
    docs = base_workloads()
    for _, component, name in ALL_PROCESSES:
        (container,) = pod_spec(workload(docs, component, name))["containers"]
        assert argv(compose["services"][name]["command"]) == container["command"], name


def test_procfile_processes_run_the_same_commands_everywhere(compose):
    """The Procfile (make run) names the long-running processes the image and manifests run."""
    docs = base_workloads()
    processes = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            args = argv(command.strip())
            if "--bind" in args:  # make run binds each API to its own local port
                del args[args.index("--bind") : args.index("--bind") + 2]
            processes[name.strip()] = args
    expected = {name for _, component, name in ALL_PROCESSES if component != "migrate"} | {PORTAL} | DEVELOPMENT_ONLY
    assert set(processes) == expected, f"Procfile names {sorted(processes)}, deployed are {sorted(expected)}"
    for name, args in processes.items():
        assert argv(compose["services"][name]["command"]) == args, f"docker-compose.yml: {name}"
        if name in DEVELOPMENT_ONLY:
            continue
        (container,) = pod_spec(one(docs, "Deployment", name))["containers"]
        assert container["command"] == args, f"deploy/k8s: {name}"


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_compose_topology(compose, service):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.13-management")
    for backend in ("postgres", "rabbitmq"):
        assert services[backend].get("healthcheck", {}).get("test"), f"{backend} has no healthcheck"

    images = {services[name]["image"] for _, _, name in ALL_PROCESSES}
    assert len(images) == 1, f"one image for every process, got {images}"

    api_name, worker_name, migrate_name = (service.components[c] for c in ("api", "worker", "migrate"))
    for name in (api_name, worker_name):
        depends = services[name]["depends_on"]
        assert depends[migrate_name]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["rabbitmq"]["condition"] == "service_healthy"
    assert services[migrate_name].get("restart") == "no"
    assert services[migrate_name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert not services[worker_name].get("ports"), "a worker's metrics stay inside the compose network"

    api = services[api_name]
    assert f"{service.compose_api_port}:{API_PORT}" in [str(p) for p in api["ports"]]
    health = " ".join(api["healthcheck"]["test"])
    assert "urllib" in health and f"127.0.0.1:{API_PORT}/healthz" in health
    assert api["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prom"
    if service.api_files_claim:
        assert api["environment"][f"{service.name.upper()}_STORAGE_DIR"] == "/data/files"
        volume = next(v for v in api["volumes"] if str(v).endswith(":/data/files"))
        assert volume.split(":")[0] in compose["volumes"], "uploaded files need a named volume"


def test_compose_host_ports_are_distinct(compose):
    published = [str(p).rsplit(":", 1)[0] for s in compose["services"].values() for p in s.get("ports", [])]
    assert len(published) == len(set(published)), f"a host port is published twice: {published}"


@pytest.mark.parametrize("service", SERVICES.values(), ids=SERVICES)
def test_compose_environment(compose, service):
    for component, name in service.components.items():
        env = compose["services"][name]["environment"]
        url = env[service.database_variable]
        assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url, name
        assert env["BROKER_URL"].startswith("amqp://") and "@rabbitmq:5672/" in env["BROKER_URL"]
        for variable in ("JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_URL"):
            assert env.get(variable), f"{name}: {variable} missing"
        assert env["JWT_JWKS_URL"].startswith("${JWT_JWKS_URL-"), (
            "the JWKS URL must be overridable (and emptiable) from an env file"
        )
        # Services may share a database because each keeps its tables in the schema named
        # after it; overriding the schema would let two services collide.
        assert not {"DB_SCHEMA", f"{service.name.upper()}_DB_SCHEMA"} & set(env), f"{name}: schema override"
        assert not (set(env) & {"DATABASE_URL"}), f"{name}: use {service.database_variable}, not the shared fallback"
        for key in service.config_keys:
            assert env.get(key), f"{name}: {key} missing"
        if component == "worker":
            assert str(env.get("WORKER_METRICS_PORT")) == str(WORKER_METRICS_PORT), f"{name}: no metrics port"
        else:
            assert "WORKER_METRICS_PORT" not in env, name


def test_compose_public_url_defaults_to_the_published_port(compose):
    env = compose["services"]["scheduling-api"]["environment"]
    assert env["SCHEDULING_PUBLIC_URL"] == (
        "${SCHEDULING_PUBLIC_URL:-http://localhost:" + str(SERVICES["scheduling"].compose_api_port) + "}"
    )


def test_compose_and_kubernetes_configure_the_same_variables(compose):
    """Whatever compose sets for a process, the Kubernetes pod gets too (from a ConfigMap, the
    Secret or its env list), so a setting is never forgotten on one side."""
    docs = render(OVERLAYS["base"])
    for _, component, name in ALL_PROCESSES:
        (container,) = pod_spec(workload(docs, component, name))["containers"]
        in_kubernetes = set(env_of(container)) | config_map_keys(docs, container)
        missing = set(compose["services"][name]["environment"]) - in_kubernetes
        assert not missing, f"{name}: set in docker-compose.yml but not in deploy/k8s: {missing}"


def test_every_compose_variable_is_read_by_the_code(compose):
    known = variables_read_by_the_code()
    for _, _, name in ALL_PROCESSES:
        unknown = set(compose["services"][name]["environment"]) - known
        assert not unknown, f"docker-compose.yml: {name} sets unread {unknown}"


# --------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            pairs.append((instruction.upper(), rest.strip()))
    return pairs


def test_dockerfile_runs_as_non_root_and_installs_the_project():
    instructions = dockerfile_instructions()
    froms = [args for ins, args in instructions if ins == "FROM"]
    assert froms and all(args.split()[0] == "python:3.11-slim" for args in froms)

    users = [args for ins, args in instructions if ins == "USER"]
    assert users, "the image must switch to a non-root USER"
    final_user = users[-1].split(":")[0]
    assert final_user not in {"root", "0"}
    assert final_user == str(UID)

    runs = " ".join(args for ins, args in instructions if ins == "RUN")
    assert re.search(r"pip install --no-cache-dir \.(\s|$)", runs), "the project itself must be installed"
    assert "[dev]" not in runs and "-e " not in runs, "no dev extras, no editable install"
    copied = [args.split()[0] for ins, args in instructions if ins == "COPY" and "--from" not in args]
    assert "pyproject.toml" in copied
    for source in copied:
        assert (REPO / source).exists(), f"COPY {source}: no such path in the repository"
    # Every service's code is in the image: the whole services/ package is copied.
    assert "services" in copied and "shared" in copied

    env = " ".join(args for ins, args in instructions if ins == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    assert ("EXPOSE", str(API_PORT)) in instructions


def test_dockerfile_default_command_is_the_content_api():
    import json

    (cmd,) = [args for ins, args in dockerfile_instructions() if ins == "CMD"]
    command = json.loads(cmd)
    assert "services.content.wsgi:app" in command
    assert_modules_exist(command, "Dockerfile CMD")


def test_dockerignore_keeps_local_state_out_of_the_context():
    ignored = {line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()}
    for entry in (".git", ".venv", "var", "**/__pycache__", ".pytest_cache"):
        assert entry in ignored, f".dockerignore should exclude {entry}"
    for needed in ("pyproject.toml", "shared", "services"):
        assert needed not in ignored


# --------------------------------------------------------------------------- the portal


def test_portal_is_served_on_the_api_port_with_probes_and_its_own_settings(rendered):
    overlay, docs = rendered
    portal = one(docs, "Deployment", PORTAL)
    (container,) = pod_spec(portal)["containers"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": API_PORT}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
    assert ingress_ports_admitted(docs, pod_labels(portal)) == {API_PORT}
    assert one(docs, "Service", PORTAL)["spec"]["selector"] == {
        "app.kubernetes.io/name": PORTAL,
        "app.kubernetes.io/component": "api",
    }
    settings = config_map_named(docs, "portal-config")["data"]
    assert settings["PORTAL_CONTENT_URL"] == "http://content-api"
    assert settings["PORTAL_SCHEDULING_URL"] == "http://scheduling-api"
    assert settings["PORTAL_OIDC_ISSUER"].startswith("https://")
    env = env_of(container)
    assert env["PORTAL_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "portal-secrets",
        "key": "PORTAL_SECRET_KEY",
    }
    known = variables_read_by_the_code()
    assert not set(env) - known, f"{overlay}: the portal sets unread {set(env) - known}"
    assert not any("DATABASE_URL" in name or name == "BROKER_URL" for name in env), "the portal owns no data"
    one(docs, "HorizontalPodAutoscaler", PORTAL)
    one(docs, "PodDisruptionBudget", PORTAL)


def test_compose_runs_the_portal_against_the_apis(compose):
    portal = compose["services"][PORTAL]
    assert_modules_exist(portal["command"], f"docker-compose.yml: {PORTAL}")
    assert f"{API_PORT}:{API_PORT}" in [str(p) for p in portal["ports"]]
    env = portal["environment"]
    assert env["PORTAL_CONTENT_URL"] == f"http://content-api:{API_PORT}"
    assert env["PORTAL_SCHEDULING_URL"] == f"http://scheduling-api:{API_PORT}"
    assert {portal["depends_on"][api]["condition"] for api in ("content-api", "scheduling-api")} == {"service_healthy"}
    assert not set(env) - variables_read_by_the_code()
    docs = render(OVERLAYS["base"])
    (container,) = pod_spec(one(docs, "Deployment", PORTAL))["containers"]
    in_kubernetes = set(env_of(container)) | config_map_keys(docs, container)
    assert not set(env) - in_kubernetes, f"set in docker-compose.yml but not in deploy/k8s: {set(env) - in_kubernetes}"
