"""Offline checks of the deployment artefacts: Kubernetes manifests, docker-compose.yml, Dockerfile.

Nothing here needs a network, a cluster or a Docker engine: kustomize renders locally
(``kubectl kustomize``), kubernetes-validate and check-jsonschema ship their schemas.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

# The Kubernetes API version the manifests are validated against (kubernetes-validate ships
# its schemas). Raise it deliberately, together with the clusters we deploy to.
KUBERNETES_VERSION = "1.32.0"

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = {"base": BASE, "production": K8S / "overlays" / "production"}
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"

IMAGE_REPOSITORY = "ghcr.io/example/t4t-platform"
PART_OF = "t4t-platform"
NAMESPACE = "t4t"
UID = 10001
SECRET_NAME = "content-secrets"
SECRET_KEYS = {"DATABASE_URL", "BROKER_URL"}

# The processes of the content service, by component, as compose names them too.
COMPONENTS = {"api": "content-api", "worker": "content-worker", "migrate": "content-migrate"}


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
        capture_output=True, text=True, timeout=120, check=False,
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


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected exactly one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


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


# --------------------------------------------------------------------------- Kubernetes


def test_kubernetes_version_is_shipped_by_kubernetes_validate():
    from kubernetes_validate.utils import all_versions, major_minor

    assert major_minor(KUBERNETES_VERSION) in {major_minor(v) for v in all_versions()}


def test_base_resource_files_validate_without_kustomize():
    """Every file the base kustomization lists is valid on its own (this needs no kubectl)."""
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        for doc in load_all((BASE / resource).read_text()):
            validate(doc, f"base/{resource}")


def test_secret_example_is_documented_but_never_rendered():
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    assert "secret.example.yaml" not in kustomization["resources"]
    (example,) = load_all((BASE / "secret.example.yaml").read_text())
    validate(example, "base/secret.example.yaml")
    assert example["metadata"]["name"] == SECRET_NAME
    assert set(example["stringData"]) == SECRET_KEYS
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


def test_expected_resources_exist(rendered):
    _, docs = rendered
    for kind, name in [
        ("Namespace", NAMESPACE),
        ("Deployment", "content-api"),
        ("Service", "content-api"),
        ("HorizontalPodAutoscaler", "content-api"),
        ("PodDisruptionBudget", "content-api"),
        ("Deployment", "content-worker"),
        ("Job", "content-migrate"),
        ("PersistentVolumeClaim", "content-files"),
    ]:
        one(docs, kind, name)
    assert [s["metadata"]["name"] for s in by_kind(docs, "Service")] == ["content-api"], (
        "only the API accepts connections"
    )
    assert [c for c in by_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("platform-config")]


def test_workloads_are_labelled_by_component(rendered):
    _, docs = rendered
    for component, name in COMPONENTS.items():
        kind = "Job" if component == "migrate" else "Deployment"
        workload = one(docs, kind, name)
        for labels in (workload["metadata"]["labels"], workload["spec"]["template"]["metadata"]["labels"]):
            assert labels["app.kubernetes.io/name"] == "content"
            assert labels["app.kubernetes.io/component"] == component
            assert labels["app.kubernetes.io/part-of"] == PART_OF


def test_workloads_are_hardened_and_bounded(rendered):
    overlay, docs = rendered
    workloads = by_kind(docs, "Deployment") + by_kind(docs, "Job")
    assert workloads
    for workload in workloads:
        spec = pod_spec(workload)
        pod_sc = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False
        assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"] + spec.get("initContainers", []):
            where = f"{overlay}: {workload['kind']}/{workload['metadata']['name']}/{container['name']}"
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


def test_api_probes_ports_and_storage(rendered):
    _, docs = rendered
    api = one(docs, "Deployment", "content-api")
    (container,) = pod_spec(api)["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000}

    def probe_target(probe: str) -> tuple[str, int]:
        http = container[probe]["httpGet"]
        port = http["port"]
        return http["path"], ports.get(port, port)

    assert probe_target("readinessProbe") == ("/readyz", 8000)
    assert probe_target("livenessProbe") == ("/healthz", 8000)
    assert container["resources"]["limits"]["memory"] == "256Mi"

    env = env_of(container)
    assert env["CONTENT_STORAGE_DIR"]["value"] == "/data/files"
    assert env["PROMETHEUS_MULTIPROC_DIR"]["value"] == "/tmp/prom"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(api)["volumes"]}
    assert volumes[mounts["/data/files"]]["persistentVolumeClaim"]["claimName"] == "content-files"
    assert "emptyDir" in volumes[mounts["/tmp/prom"]]


def test_other_workloads_have_no_ports_or_files(rendered):
    _, docs = rendered
    for workload in (one(docs, "Deployment", "content-worker"), one(docs, "Job", "content-migrate")):
        for container in pod_spec(workload)["containers"]:
            assert not container.get("ports")
            assert "/data/files" not in {m["mountPath"] for m in container.get("volumeMounts", [])}


def test_one_image_for_every_process(rendered):
    overlay, docs = rendered
    images = {
        name: [c["image"] for c in pod_spec(one(docs, "Job" if comp == "migrate" else "Deployment", name))["containers"]]
        for comp, name in COMPONENTS.items()
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


def test_configuration_comes_from_config_map_and_secret(rendered):
    _, docs = rendered
    config_maps = {c["metadata"]["name"] for c in by_kind(docs, "ConfigMap")}
    for component, name in COMPONENTS.items():
        workload = one(docs, "Job" if component == "migrate" else "Deployment", name)
        for container in pod_spec(workload)["containers"]:
            refs = [s["configMapRef"]["name"] for s in container.get("envFrom", []) if "configMapRef" in s]
            assert refs and set(refs) <= config_maps, f"{name}: envFrom names a missing ConfigMap"
            env = env_of(container)
            for variable, key in {"CONTENT_DATABASE_URL": "DATABASE_URL", "BROKER_URL": "BROKER_URL"}.items():
                ref = env[variable]["valueFrom"]["secretKeyRef"]
                assert ref == {"name": SECRET_NAME, "key": key}, f"{name}: {variable} not from the Secret"
            literal = {k: e["value"] for k, e in env.items() if "value" in e}
            assert not any(re.search(r"://[^/@\s]+:[^/@\s]+@", v) for v in literal.values()), (
                f"{name}: a credential is written into the manifest"
            )


def test_process_commands_name_existing_modules(rendered):
    overlay, docs = rendered
    for component, name in COMPONENTS.items():
        workload = one(docs, "Job" if component == "migrate" else "Deployment", name)
        (container,) = pod_spec(workload)["containers"]
        assert_modules_exist(container["command"], f"{overlay}: {name}")


def test_migration_job_migrates_then_seeds(rendered):
    _, docs = rendered
    job = one(docs, "Job", "content-migrate")
    (container,) = pod_spec(job)["containers"]
    script = " ".join(container["command"])
    assert script.index("manage migrate") < script.index("manage seed")
    assert "&&" in script, "seed must not run when migrate fails"
    assert pod_spec(job)["restartPolicy"] in {"Never", "OnFailure"}
    assert job["spec"].get("ttlSecondsAfterFinished"), "a finished Job blocks the next release's apply"


def test_service_pdb_hpa_and_network_policy_target_the_api(rendered):
    _, docs = rendered
    api = one(docs, "Deployment", "content-api")
    api_labels = api["spec"]["template"]["metadata"]["labels"]
    other_pods = [
        one(docs, "Deployment", "content-worker")["spec"]["template"]["metadata"]["labels"],
        one(docs, "Job", "content-migrate")["spec"]["template"]["metadata"]["labels"],
    ]

    service = one(docs, "Service", "content-api")
    assert selects({"matchLabels": service["spec"]["selector"]}, api_labels)
    assert not any(selects({"matchLabels": service["spec"]["selector"]}, pod) for pod in other_pods)
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    assert port["targetPort"] in {8000, "http"}

    pdb = one(docs, "PodDisruptionBudget", "content-api")
    assert selects(pdb["spec"]["selector"], api_labels)
    assert not any(selects(pdb["spec"]["selector"], pod) for pod in other_pods)

    hpa = one(docs, "HorizontalPodAutoscaler", "content-api")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "content-api"}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert "replicas" not in api["spec"], "the HPA owns the API's replica count"

    policies = [p for p in by_kind(docs, "NetworkPolicy") if selects(p["spec"]["podSelector"], api_labels)]
    allowed = {
        port.get("port")
        for policy in policies
        for rule in policy["spec"].get("ingress", [])
        for port in rule.get("ports", [])
    }
    assert 8000 in allowed or "http" in allowed, "no NetworkPolicy admits traffic to the API port"


def test_production_overlay_scales_up():
    docs = render(OVERLAYS["production"])
    assert one(docs, "HorizontalPodAutoscaler", "content-api")["spec"]["minReplicas"] >= 2
    assert one(docs, "Deployment", "content-worker")["spec"]["replicas"] >= 2


# --------------------------------------------------------------------------- docker compose


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_compose_file_matches_the_compose_specification():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(COMPOSE_FILE)],
        capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_commands_name_existing_modules(compose):
    for name in COMPONENTS.values():
        assert_modules_exist(compose["services"][name]["command"], f"docker-compose.yml: {name}")


def test_compose_and_kubernetes_run_the_same_commands(compose):
    docs = load_all("\n---\n".join(
        (BASE / resource).read_text()
        for resource in yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"]
    ))
    for component, name in COMPONENTS.items():
        workload = one(docs, "Job" if component == "migrate" else "Deployment", name)
        (container,) = pod_spec(workload)["containers"]
        assert argv(compose["services"][name]["command"]) == container["command"], name


def test_compose_topology(compose):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.13-management")
    for backend in ("postgres", "rabbitmq"):
        assert services[backend].get("healthcheck", {}).get("test"), f"{backend} has no healthcheck"

    images = {services[name]["image"] for name in COMPONENTS.values()}
    assert len(images) == 1, f"one image for every process, got {images}"

    for name in ("content-api", "content-worker"):
        depends = services[name]["depends_on"]
        assert depends["content-migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["rabbitmq"]["condition"] == "service_healthy"
    assert services["content-migrate"].get("restart") == "no"

    api = services["content-api"]
    assert "8001:8000" in [str(p) for p in api["ports"]]
    health = " ".join(api["healthcheck"]["test"])
    assert "urllib" in health and "/healthz" in health
    assert api["environment"]["CONTENT_STORAGE_DIR"] == "/data/files"
    assert api["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prom"
    volume = next(v for v in api["volumes"] if str(v).endswith(":/data/files"))
    assert volume.split(":")[0] in compose["volumes"], "uploaded files need a named volume"


def test_compose_environment(compose):
    for name in COMPONENTS.values():
        env = compose["services"][name]["environment"]
        assert env["CONTENT_DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["CONTENT_DATABASE_URL"]
        assert env["BROKER_URL"].startswith("amqp://") and "@rabbitmq:5672/" in env["BROKER_URL"]
        for variable in ("JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_URL"):
            assert env.get(variable), f"{name}: {variable} missing"
        assert env["JWT_JWKS_URL"].startswith("${JWT_JWKS_URL-"), "the JWKS URL must be overridable (and emptiable) from an env file"


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

    env = " ".join(args for ins, args in instructions if ins == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    assert ("EXPOSE", "8000") in instructions


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
