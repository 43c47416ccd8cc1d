"""The approval path in Chromium, against a real MLflow server.

A data scientist requests promotion of a version that exists in MLflow, an officer
signs the approval with their password, the change reaches MLflow (Celery runs
eagerly in tests, so the apply runs when the approval commits), the timeline shows
request, decision and application, and an executive reads the selection record but
cannot act.
"""

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from mlflow import MlflowClient
from pytest_django.live_server_helper import LiveServer

from governance.models import MlflowSource, ModelVersion, TransitionRequest
from governance.sync import sync_source
from tests.browser.conftest import Session, sign_in
from tests.support import personas
from tests.support.mlflow_server import MlflowServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # Stages are deprecated in MLflow but still what regulated users promote with.
    pytest.mark.filterwarnings("ignore:.*transition_model_version_stage.*:FutureWarning"),
]


MLMODEL = {
    "artifact_path": "model",
    "flavors": {"python_function": {"loader_module": "pipeline", "python_version": "3.11"}},
    "signature": {
        "inputs": json.dumps([{"type": "double", "name": "income", "required": True}]),
        "outputs": json.dumps([{"type": "long", "required": True}]),
        "params": None,
    },
}


def _two_versions(client: MlflowClient, name: str) -> None:
    """Version 1 in Production and a better version 2, both trained by derek."""
    experiment_id = client.create_experiment(f"{name}-experiment")
    client.create_registered_model(name)
    for number, auc in ((1, 0.81), (2, 0.87)):
        run = client.create_run(experiment_id, tags={"mlflow.user": "derek"})
        client.log_param(run.info.run_id, "depth", str(2 + 2 * number))
        client.log_metric(run.info.run_id, "auc", auc)
        client.log_metric(run.info.run_id, "recall", auc - 0.1)
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "MLmodel").write_text(json.dumps(MLMODEL))
            client.log_artifacts(run.info.run_id, folder, "model")
        client.set_terminated(run.info.run_id)
        source = f"{run.info.artifact_uri}/model"
        client.create_model_version(name, source, run_id=run.info.run_id)
    client.transition_model_version_stage(name, "1", "Production")


def _request(session: Session, version: ModelVersion) -> None:
    session.open(f"/models/versions/{version.pk}/")
    session.page.get_by_role("link", name="Request a stage or alias change").click()
    session.page.get_by_label("Move this version to").select_option("stage:Production")
    session.page.get_by_label("Rationale").fill("AUC 0.87 against 0.81 on the same holdout.")
    session.screenshot("approval-1-request-form")
    session.page.get_by_role("button", name="Send the request").click()
    session.page.wait_for_url("**/requests/*/")
    assert "Request 1 was sent" in session.page.inner_text("main") or "was sent" in (
        session.page.inner_text("main")
    )


def _approve(session: Session) -> None:
    session.open("/decisions/")
    session.screenshot("approval-2-officer-inbox")
    session.page.get_by_role("link", name="Review and sign").click()
    session.page.wait_for_url("**/requests/*/")
    assert session.wait_for_charts() == 1
    main = session.page.inner_text("main")
    assert "Candidate: version 2" in main and "Incumbent: version 1" in main
    session.screenshot("approval-3-decision-page")
    session.page.get_by_label("Approved").check()
    session.page.get_by_label("Rationale").fill("Evidence reviewed; recall improved too.")
    session.page.get_by_label("Your password, to sign").fill(personas.PASSWORD)
    session.page.get_by_role("button", name="Sign").click()
    session.page.wait_for_load_state("load")


def _post_as(session: Session, path: str, form: dict[str, str]) -> Any:
    cookies = {c["name"]: c["value"] for c in session.page.context.cookies()}
    return session.page.request.post(
        session.base_url + path,
        form=form,
        headers={"X-CSRFToken": cookies["csrftoken"]},
        max_redirects=0,
    )


def test_a_request_is_approved_applied_in_mlflow_and_traced(
    browser: Any, live_server: LiveServer, mlflow_server: MlflowServer
) -> None:
    mlflow = MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    name = f"browser-path-{uuid.uuid4().hex[:8]}"
    _two_versions(mlflow, name)
    source = MlflowSource.objects.create(name="browser-path", tracking_uri=mlflow_server.uri)
    sync_source(source.pk, full=True)
    candidate = ModelVersion.objects.get(registered_model__name=name, version=2)
    users: dict[str, User] = {
        p.username: personas.make_user(p)
        for p in (personas.DANA, personas.OLIVIA, personas.ERIN, personas.ADAM)
    }

    scientist = sign_in(browser, live_server, users["dana"])
    _request(scientist, candidate)
    transition = TransitionRequest.objects.get(model_version=candidate)
    assert transition.status == "pending"

    officer = sign_in(browser, live_server, users["olivia"])
    _approve(officer)
    main = officer.page.inner_text("main")
    assert "Approved by Olivia Pope" in main
    assert "Meaning: “approved”" in main
    assert "Yes at " in main, main
    officer.screenshot("approval-4-signed-and-applied")
    assert mlflow.get_model_version(name, "2").current_stage == "Production"
    assert mlflow.get_model_version(name, "1").current_stage == "Archived"

    officer.open(f"/models/versions/{candidate.pk}/timeline/")
    timeline = officer.page.inner_text("table.timeline")
    steps = ["Change requested", "Approved (signed)", "Applied in MLflow"]
    positions = [timeline.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "Olivia Pope" in timeline and "exact:" in timeline
    officer.screenshot("approval-5-timeline")
    officer.open(f"/audit/?model={candidate.registered_model_id}")
    assert "Intact" in officer.page.inner_text("main")
    officer.screenshot("approval-7-audit-copy")

    executive = sign_in(browser, live_server, users["erin"])
    executive.open(f"/selection/{transition.pk}/")
    assert executive.wait_for_charts() == 1
    assert "Why version 2 of" in executive.page.inner_text("h1")
    executive.screenshot("approval-6-executive-selection-record")
    executive.open(f"/requests/{transition.pk}/")
    assert executive.page.locator("input[type=password]").count() == 0
    refused = _post_as(
        executive,
        f"/requests/{transition.pk}/",
        {"meaning": "rejected", "rationale": "No.", "password": personas.PASSWORD},
    )
    assert refused.status == 403
    assert transition.decisions.count() == 1

    admin = sign_in(browser, live_server, users["adam"])
    admin.open("/access/")
    assert "You cannot change your own roles." in admin.page.inner_text("main")
    admin.screenshot("approval-8-access-roles")

    for session in (scientist, officer, executive, admin):
        assert session.console_errors == []
        assert session.dialogs == []
        session.page.context.close()
