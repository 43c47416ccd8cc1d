"""Settings: typed environment readers and the production mode's deploy check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from governance.env import env_bool, env_counts, env_int, env_list, env_mapping

ROOT = Path(__file__).resolve().parents[2]


def test_it_reads_booleans_and_rejects_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be a boolean"):
        env_bool("FLAG")


def test_it_reads_integers_with_a_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNT", "12")
    assert env_int("COUNT", 1, minimum=5) == 12
    monkeypatch.setenv("COUNT", "3")
    with pytest.raises(ImproperlyConfigured, match="COUNT must be at least 5, got 3"):
        env_int("COUNT", 1, minimum=5)
    monkeypatch.setenv("COUNT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="COUNT must be an integer"):
        env_int("COUNT", 1)


def test_it_reads_lists_and_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", " a.example, b.example ,,")
    monkeypatch.setenv("SOURCES", "prod=http://mlflow:5000, dev=http://dev:5000")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    assert env_mapping("SOURCES") == {"prod": "http://mlflow:5000", "dev": "http://dev:5000"}
    monkeypatch.setenv("SOURCES", "prod")
    with pytest.raises(ImproperlyConfigured, match="SOURCES must be name=value pairs"):
        env_mapping("SOURCES")


def test_it_reads_approval_counts_per_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPROVALS", "low=1,high=3")
    assert env_counts("APPROVALS", {"low": 9}) == {"low": 1, "high": 3}
    monkeypatch.setenv("APPROVALS", "high=two")
    with pytest.raises(ImproperlyConfigured, match="APPROVALS needs positive whole numbers"):
        env_counts("APPROVALS", {})


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never does.
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_passes_the_deploy_check_without_warnings() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PRODUCTION="true",
        SECRET_KEY="k" * 20 + "-a-long-random-production-secret-value-0123456789",
        ALLOWED_HOSTS="governance.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_mode_refuses_to_start_without_a_secret_key() -> None:
    result = _manage("check", PRODUCTION="true", ALLOWED_HOSTS="governance.example.com")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when PRODUCTION is true" in result.stderr
