"""The demo fills a real MLflow server with real work, and run_demo mirrors it."""

import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from mlflow.entities import Run as MlflowRun
from mlflow.entities import ViewType
from mlflow.models import Model
from pytest_django import Settings

from governance.demo.names import CREDIT_MODEL, DIABETES_MODEL, TUMOUR_MODEL, WINE_MODEL
from governance.demo.populate import is_populated, populate
from governance.demo.users import DEMO_USERS
from governance.demo.webhook import WEBHOOK_NAME, register_webhook
from governance.models import (
    DatasetInput,
    LedgerEntry,
    ModelVersion,
    RegisteredModel,
    Run,
    TransitionRequest,
)
from governance.permissions import roles_of
from tests.support.mlflow_server import MlflowServer
from tests.support.services import free_port

EXPERIMENTS = {
    "credit-risk-scoring",
    "tumour-classification",
    "wine-cultivar-classification",
    "diabetes-progression",
}


@pytest.fixture(scope="module")
def demo_server() -> Iterator[MlflowServer]:
    """A server of this module's own, holding the demo's first phase.

    The demo uses fixed experiment and model names, so it cannot share the
    session-wide server with tests that expect names of their own.
    """
    server = MlflowServer()
    server.start()
    populate(server.uri, "initial")
    yield server
    server.cleanup()


def _client(server: MlflowServer) -> MlflowClient:
    return MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)


def _runs(client: MlflowClient) -> dict[str, MlflowRun]:
    experiments = client.search_experiments(view_type=ViewType.ALL)
    runs = client.search_runs(
        [e.experiment_id for e in experiments], run_view_type=ViewType.ALL, max_results=500
    )
    return {run.info.run_name: run for run in runs}


def test_it_logs_real_runs_with_datasets_signatures_and_lineage(
    demo_server: MlflowServer,
) -> None:
    client = _client(demo_server)
    experiments = {e.name: e for e in client.search_experiments(view_type=ViewType.ALL)}
    assert experiments.keys() >= EXPERIMENTS
    assert experiments["scratch-derek"].lifecycle_stage == "deleted"

    runs = _runs(client)
    baseline = runs["logreg-baseline"]
    assert baseline.info.user_id == "dana"
    assert re.fullmatch(r"[0-9a-f]{40}", baseline.data.tags["mlflow.source.git.commit"])
    assert 0.6 < baseline.data.metrics["val_auc"] <= 1.0
    assert baseline.inputs is not None
    inputs = {d.dataset.name: d for d in baseline.inputs.dataset_inputs}
    assert set(inputs) == {"loan-applications-2025q2", "loan-applications-2025q2-holdout"}
    contexts = {
        name: {t.value for t in d.tags if t.key == "mlflow.data.context"}
        for name, d in inputs.items()
    }
    assert contexts == {
        "loan-applications-2025q2": {"training"},
        "loan-applications-2025q2-holdout": {"evaluation"},
    }
    assert all(d.dataset.digest for d in inputs.values())

    sweep = runs["gbm-sweep"]
    children = [
        r for r in runs.values() if r.data.tags.get("mlflow.parentRunId") == sweep.info.run_id
    ]
    assert len(children) == 4
    history = client.get_metric_history(children[0].info.run_id, "train_loss")
    assert [m.step for m in history] == list(range(60))

    failed = runs["ridge-raw-export"]
    assert failed.info.status == "FAILED"
    assert failed.data.tags["error"].startswith("ValueError: Input X contains NaN")
    assert runs["logreg-with-dpd"].info.lifecycle_stage == "deleted"
    assert {r.info.user_id for r in runs.values()} >= {"dana", "derek"}

    for name in (CREDIT_MODEL, TUMOUR_MODEL, WINE_MODEL, DIABETES_MODEL):
        versions = client.search_model_versions(f"name = '{name}'")
        assert versions, name
        # MLflow 3 registers logged models: the version's source names one.
        source = versions[0].source or ""
        assert source.startswith("models:/m-"), name
        logged = client.get_logged_model(source.removeprefix("models:/"))
        mlmodel = download_artifacts(
            artifact_uri=f"{logged.artifact_location}/MLmodel", tracking_uri=demo_server.uri
        )
        signature = Model.load(mlmodel).signature
        assert signature is not None, name
        assert signature.inputs.input_names(), name
    credit = client.get_registered_model(CREDIT_MODEL)
    assert {"champion", "challenger"} <= credit.aliases.keys()
    assert credit.tags["owner"] == "credit-risk"


def test_it_skips_a_phase_already_present(demo_server: MlflowServer) -> None:
    before = len(_runs(_client(demo_server)))

    summary = populate(demo_server.uri, "initial")

    assert summary.skipped
    assert is_populated(demo_server.uri, "initial")
    assert len(_runs(_client(demo_server))) == before


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_password_hasher")
def test_run_demo_syncs_each_phase_and_creates_one_user_per_role(
    demo_server: MlflowServer,
    settings: Settings,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]],
) -> None:
    # Through the settings fixture, so the demo's source change is undone afterwards.
    settings.MLFLOW_SOURCES = {}
    out, again = io.StringIO(), io.StringIO()

    # Approvals apply to MLflow once their transaction commits; here that is when
    # the block ends, after a second run that must find nothing left to do.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_demo", "--no-serve", "--tracking-uri", demo_server.uri, stdout=out)
        call_command("run_demo", "--no-serve", "--tracking-uri", demo_server.uri, stdout=again)

    assert "phase later:" in out.getvalue()
    assert "phase initial:" not in out.getvalue()
    client = _client(demo_server)
    credit = client.get_registered_model(CREDIT_MODEL)
    assert credit.aliases == {"champion": "2", "challenger": "3"}
    diabetes_versions = {
        int(v.version) for v in client.search_model_versions(f"name = '{DIABETES_MODEL}'")
    }
    assert diabetes_versions == {1, 2}

    mirrored = RegisteredModel.objects.get(source__name="default", name=CREDIT_MODEL)
    assert mirrored.aliases == {"champion": 2, "challenger": 3}
    stages = dict(
        ModelVersion.objects.filter(registered_model=mirrored).values_list("version", "stage")
    )
    assert stages == {1: "Archived", 2: "Production", 3: "Staging"}
    assert all(
        v.signature for v in ModelVersion.objects.filter(registered_model__source__name="default")
    )
    moved = LedgerEntry.objects.get(
        action="mlflow.alias_moved", model_name=CREDIT_MODEL, target="champion"
    )
    assert (moved.before, moved.after) == ({"version": 1}, {"version": 2})
    assert LedgerEntry.objects.filter(
        action="mlflow.version_deleted", model_name=DIABETES_MODEL, version=3
    ).exists()
    production_run = Run.objects.get(source__name="default", name="gbm-retrain-2025q3")
    assert production_run.tags["data.production"] == "true"
    assert DatasetInput.objects.filter(
        run=production_run, name="loan-applications-2025q3-production", context="training"
    ).exists()

    for demo in DEMO_USERS:
        user = User.objects.get(username=demo.username)
        assert user.check_password(demo.password)
        assert roles_of(user) == {demo.role}
        assert f"user {demo.username}" in out.getvalue()
    assert LedgerEntry.objects.filter(action="role.granted").count() == len(DEMO_USERS)

    assert "MLflow already holds the demo work" in again.getvalue()
    assert "events=0" in again.getvalue()
    assert "governance activity" not in again.getvalue()
    assert LedgerEntry.objects.filter(action="role.granted").count() == len(DEMO_USERS)

    requests = {
        (r.registered_model.name, r.target): r
        for r in TransitionRequest.objects.select_related("registered_model")
    }
    assert requests[WINE_MODEL, "Production"].status == TransitionRequest.Status.APPLIED
    assert client.get_model_version(WINE_MODEL, "2").current_stage == "Production"
    assert requests[DIABETES_MODEL, "challenger"].status == TransitionRequest.Status.REJECTED
    credit_request = requests[CREDIT_MODEL, "Production"]
    assert credit_request.status == TransitionRequest.Status.PENDING
    assert credit_request.decisions.get().officer.username == "olivia"
    assert requests[TUMOUR_MODEL, "Production"].status == TransitionRequest.Status.PENDING


def test_it_points_one_webhook_at_the_dashboard_whatever_its_port(
    demo_server: MlflowServer,
) -> None:
    client = _client(demo_server)

    first = register_webhook(demo_server.uri, "http://127.0.0.1:9/hooks/mlflow/default/", "one")
    second = register_webhook(demo_server.uri, "http://127.0.0.1:7/hooks/mlflow/default/", "two")

    hooks = list(client.list_webhooks())
    try:
        assert first == second
        assert [(w.name, w.url) for w in hooks] == [
            (WEBHOOK_NAME, "http://127.0.0.1:7/hooks/mlflow/default/")
        ]
        assert {str(event) for event in hooks[0].events} >= {
            "model_version.created",
            "model_version_alias.created",
        }
    finally:
        client.delete_webhook(first)


def test_populate_command_reports_a_phase_already_present(demo_server: MlflowServer) -> None:
    out = io.StringIO()

    call_command(
        "populate_demo_mlflow", "--tracking-uri", demo_server.uri, "--phase", "initial", stdout=out
    )

    assert out.getvalue() == "phase initial: already present, skipped\n"


def test_populate_command_needs_a_server() -> None:
    with pytest.raises(
        CommandError, match=r"^no MLflow server given; set MLFLOW_TRACKING_URI or --tracking-uri$"
    ):
        call_command("populate_demo_mlflow", "--tracking-uri", "")


def test_run_demo_serves_the_dashboard_and_keeps_syncing(
    demo_server: MlflowServer, tmp_path: Path
) -> None:
    """The README's first command past preparing: the page, a login, the poller, SIGTERM."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "PRODUCTION", "MLFLOW_TRACKING_URI"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        LEDGER_CHECKPOINT_DIR=str(tmp_path / "checkpoints"),
        SYNC_INCREMENTAL_SECONDS="5",
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "manage.py", "run_demo", "--port", str(port)]
    command += ["--tracking-uri", demo_server.uri]
    demo = subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _answers(base + "/accounts/login/"), demo, "the dashboard to answer")
        browser = requests.Session()
        login_page = browser.get(base + "/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
        assert token is not None
        olivia = next(user for user in DEMO_USERS if user.username == "olivia")
        answer = browser.post(
            base + "/accounts/login/",
            data={
                "username": olivia.username,
                "password": olivia.password,
                "csrfmiddlewaretoken": token.group(1),
            },
            headers={"Referer": base + "/accounts/login/"},
            timeout=30,
        )
        assert answer.url.rstrip("/") == base, answer.text[:500]
        assert "Olivia Pope" in browser.get(base + "/models/", timeout=30).text

        # A change made in MLflow behind the dashboard's back reaches it by the poller.
        _client(demo_server).transition_model_version_stage(TUMOUR_MODEL, "1", "Archived")
        database = tmp_path / "demo.sqlite3"
        _wait_for(lambda: _unapproved(database, TUMOUR_MODEL), demo, "the poller to see it")
    finally:
        demo.send_signal(signal.SIGTERM)
        output = demo.communicate(timeout=60)[0].decode(errors="replace")
    assert demo.returncode == 0, output
    assert "dashboard at" in output


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def _unapproved(database: Path, model: str) -> bool:
    with closing(sqlite3.connect(database)) as connection:
        found = connection.execute(
            "SELECT 1 FROM governance_ledgerentry WHERE action = ? AND model_name = ?",
            ("mlflow.unapproved_change", model),
        ).fetchone()
    return found is not None


def _wait_for(done: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.communicate()[0].decode(errors="replace")
            raise AssertionError(f"run_demo exited while waiting for {what}:\n{output}")
        if done():
            return
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what}")
