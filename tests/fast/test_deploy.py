"""Deployment files, checked with the real tools: hadolint on every Dockerfile, Debian's docker-compose on the
compose file (it validates without an engine), the Helm engine rendering the chart (default values and the GPU
example) and kubernetes-validate on what it renders; plus the wiring between them and the code (settings names,
queue names, metric names)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.catalog import MODELS
from shared.config import Settings
from shared.queues import queue_table
from tests.services import ROOT

BIN = Path(sys.executable).parent
DOCKERFILES = sorted((ROOT / "infra").glob("Dockerfile.*"))
CHART = ROOT / "infra" / "helm" / "s2s"
COMPOSE_ENV = {
    name: "x"
    for name in [
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "ADMIN_TOKEN",
        "METRICS_TOKEN",
        "SECRETS_KEY",
        "MINIO_ROOT_PASSWORD",
        "FLOWER_PASSWORD",
        "GRAFANA_PASSWORD",
    ]
}


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is missing: pip install -e '.[dev]' (it is part of the dev extra)")
    return str(path)


def setting_names() -> set[str]:
    """Every environment variable the Settings class reads (nested ones as PARENT__CHILD)."""
    from pydantic import BaseModel

    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {f"{name}__{child}".upper() for child in annotation.model_fields}
        else:
            names.add(name.upper())
    return names


# --- images ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfiles_pass_hadolint(dockerfile: Path) -> None:
    run = subprocess.run(
        [tool("hadolint"), "--no-color", "--config", str(ROOT / ".hadolint.yaml"), str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_are_multi_stage_non_root_and_carry_no_weights(dockerfile: Path) -> None:
    text = "\n".join(line for line in dockerfile.read_text().splitlines() if not line.lstrip().startswith("#"))
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2  # a build stage and a runtime stage
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].isdigit() and users[-1] != "0"  # numeric: runAsNonRoot can check it
    assert "models install" not in text and "models pull" not in text  # weights come from the model volume
    if "gpu" in dockerfile.name:
        assert "whl/cpu" not in text and ".[gpu]" in text and "nvidia/cuda" in text
    if "api" in dockerfile.name:
        assert "[cpu]" not in text  # the API image has no torch


def test_build_context_leaves_out_environments_data_and_weights() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "models", "**/__pycache__", "node_modules"} <= set(ignored)


# --- docker compose ----------------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_validates_with_docker_compose() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (Debian: apt-get install docker-compose; .ci/run installs it)")
    for profile in ([], ["--profile", "gpu"]):
        run = subprocess.run(
            [binary, "-f", str(ROOT / "docker-compose.yml"), *profile, "config"],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", **COMPOSE_ENV},
            cwd=ROOT,
        )
        assert run.returncode == 0, run.stderr
        services = yaml.safe_load(run.stdout)["services"]
        assert all(services[name]["profiles"] == ["gpu"] for name in ("worker-gpu-stt", "worker-gpu-tts"))


def test_compose_wiring() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "minio", "minio-init", "model-init", "api", "worker-cpu", "worker-gpu-stt",
            "worker-gpu-tts", "flower", "prometheus", "grafana"} <= set(services)  # fmt: skip
    api = services["api"]
    assert "volumes" not in api and "replicas" not in api.get("deploy", {})  # no model files; one port, one replica
    assert "--workers" in " ".join(api["command"])
    env = api["environment"]
    assert env["STORE__BACKEND"] == "s3" and env["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD")
    assert env["SECRETS_KEY"].startswith("${SECRETS_KEY")
    assert set(env) - {"API_WORKERS"} <= setting_names()
    redis = services["redis"]["entrypoint"]
    assert "noeviction" in redis and "--appendonly yes" in redis and "requirepass" in redis
    assert all("PASSWORD" not in str(part) for part in services["flower"]["command"])
    for name in ("worker-gpu-stt", "worker-gpu-tts"):
        svc = services[name]
        assert svc["build"]["dockerfile"] == "infra/Dockerfile.worker-gpu" and svc["profiles"] == ["gpu"]
        assert svc["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    for name, svc in services.items():
        if name.startswith("worker"):
            models = svc["command"][svc["command"].index("--models") + 1].split(",")
            assert set(models) <= set(MODELS), name
            assert svc["depends_on"]["model-init"]["condition"] == "service_completed_successfully"
            assert svc["volumes"] == ["models:/models:ro"]
    assert {MODELS[m].kind for m in services["worker-gpu-tts"]["command"][-1].split(",")} == {"tts"}
    assert {MODELS[m].kind for m in services["worker-gpu-stt"]["command"][-1].split(",")} == {"stt"}
    # Prometheus reads the credentials files its entrypoint writes; Grafana gets its provisioning
    prom = yaml.safe_load((ROOT / "infra" / "prometheus" / "prometheus.yml").read_text())
    api_job = next(j for j in prom["scrape_configs"] if j["job_name"] == "s2s-api")
    assert api_job["authorization"]["credentials_file"] in services["prometheus"]["entrypoint"]
    for mount in services["grafana"]["volumes"]:
        assert (ROOT / mount.split(":")[0]).exists()


def test_grafana_dashboard_plots_metrics_the_api_exports() -> None:
    dashboard = json.loads((ROOT / "infra" / "grafana" / "dashboards" / "s2s.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {m for expr in exprs for m in re.findall(r"\bs2s_[a-z_]+", expr)}
    source = "\n".join(p.read_text() for p in [*ROOT.glob("api/**/*.py"), ROOT / "shared" / "job_metrics.py"])

    def base(name: str) -> str:
        return re.sub(r"(_total|_bucket|_sum|_count)$", "", name)

    exported = {base(m) for m in re.findall(r'"(s2s_[a-z_]+)"', source)}
    assert {base(m) for m in used} <= exported


# --- Helm ----------------------------------------------------------------------------------------------------------


def render(*values: str) -> list[dict[str, Any]]:
    args = [arg for v in values for arg in ("-f", str(CHART / v))]
    run = subprocess.run(
        [tool("helm"), "template", "s2s", str(CHART), *args], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return [doc for doc in yaml.safe_load_all(run.stdout) if doc]


@pytest.fixture(scope="module", params=[(), ("values-gpu.yaml",)], ids=["default", "gpu"])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    docs = render(*request.param)
    path = tmp_path_factory.mktemp("helm") / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    run = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", "-k", "1.30.0", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return docs


def kinds(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_chart_settings_are_settings(rendered: list[dict[str, Any]]) -> None:
    config = next(iter(kinds(rendered, "ConfigMap").values()))["data"]
    secret = next(iter(kinds(rendered, "Secret").values()))["stringData"]
    assert set(config) <= setting_names()
    assert set(secret) - {"REDIS_PASSWORD"} <= setting_names()
    assert {"DATABASE_URL", "REDIS_URL", "ADMIN_TOKEN", "METRICS_TOKEN", "SECRETS_KEY"} <= set(secret)
    assert not {"DATABASE_URL", "REDIS_URL", "ADMIN_TOKEN"} & set(config)  # secrets never in the ConfigMap


def test_chart_worker_pools_probes_and_autoscaling(rendered: list[dict[str, Any]]) -> None:
    deployments = kinds(rendered, "Deployment")
    api = deployments["s2s-s2s-api"]["spec"]["template"]["spec"]
    assert api["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["securityContext"]["runAsNonRoot"] is True
    pdbs = kinds(rendered, "PodDisruptionBudget")
    scaled = kinds(rendered, "ScaledObject")
    table = queue_table()
    workers = {n: d for n, d in deployments.items() if "-worker-" in n}
    assert workers
    for name, deployment in workers.items():
        spec = deployment["spec"]["template"]["spec"]
        container = spec["containers"][0]
        models = container["args"][container["args"].index("--models") + 1].split(",")
        assert set(models) <= set(MODELS)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["exec"]["command"] == ["s2s", "worker-alive"]
        assert spec["terminationGracePeriodSeconds"] >= 60
        assert spec["volumes"][0]["persistentVolumeClaim"]["readOnly"] is True
        gpus = container["resources"]["limits"].get("nvidia.com/gpu")
        assert ("worker-gpu" in container["image"]) == bool(gpus)
        assert name in pdbs
        if name in scaled:  # KEDA reads every queue of the pool's models, both latency classes
            triggers = scaled[name]["spec"]["triggers"]
            lists = {t["metadata"]["listName"] for t in triggers}
            assert lists == {f"{q}.{lat}" for m in models for q in table[m] for lat in ("interactive", "batch")}
            assert all(t["type"] == "redis" and t["authenticationRef"] for t in triggers)
            assert scaled[name]["spec"]["scaleTargetRef"]["name"] == name
            if gpus:
                assert scaled[name]["spec"]["minReplicaCount"] == 0  # GPU pools may scale to zero
                assert spec["tolerations"] and spec["nodeSelector"]
    if any("gpu" in n for n in workers):
        config = next(iter(kinds(rendered, "ConfigMap").values()))["data"]
        on_demand = json.loads(config["MODELS_ON_DEMAND"])
        assert Settings(models_on_demand=on_demand).models_on_demand == on_demand
        zero = [n for n, s in scaled.items() if s["spec"]["minReplicaCount"] == 0]
        for name in zero:  # a pool at zero must not get 503s: its models are queued on demand
            args = workers[name]["spec"]["template"]["spec"]["containers"][0]["args"]
            assert set(args[args.index("--models") + 1].split(",")) <= set(on_demand)
    assert kinds(rendered, "Job") and kinds(rendered, "PersistentVolumeClaim")


def test_chart_queue_table_matches_the_catalog() -> None:
    shipped = yaml.safe_load((CHART / "files" / "model-queues.yaml").read_text())
    regenerate = "python -m shared.queues --helm > infra/helm/s2s/files/model-queues.yaml"
    assert shipped == queue_table(), f"regenerate: {regenerate}"
