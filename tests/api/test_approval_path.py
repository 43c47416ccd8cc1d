"""The full approval path through the API alone, against a real MLflow server.

Data is created in MLflow with its own client, mirrored by the sync, then a data
scientist's pipeline requests promotion with its token, an officer approves with
theirs, the approved change reaches MLflow, and the timeline and the point-in-time
answer show it.
"""

import json
import tempfile
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from mlflow import MlflowClient

from governance.models import MlflowSource
from governance.sync import sync_source
from tests.api.conftest import ClientFor
from tests.support.mlflow_server import MlflowServer
from tests.support.personas import PASSWORD

pytestmark = [
    pytest.mark.django_db,
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
CaptureCallbacks = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def _trained_version(client: MlflowClient, name: str) -> str:
    experiment_id = client.create_experiment(f"{name}-experiment")
    run = client.create_run(experiment_id, tags={"mlflow.user": "derek"})
    client.log_param(run.info.run_id, "alpha", "0.5")
    client.log_metric(run.info.run_id, "auc", 0.87)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "MLmodel").write_text(json.dumps(MLMODEL))
        client.log_artifacts(run.info.run_id, folder, "model")
    client.set_terminated(run.info.run_id)
    client.create_registered_model(name)
    source = f"{run.info.artifact_uri}/model"
    remote = client.create_model_version(name, source, run_id=run.info.run_id)
    return str(remote.version)


def test_a_pipeline_promotes_a_model_through_the_api(
    mlflow_server: MlflowServer,
    client_for: ClientFor,
    dana: User,
    olivia: User,
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    mlflow = MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    name = f"api-path-{uuid.uuid4().hex[:8]}"
    number = _trained_version(mlflow, name)
    source = MlflowSource.objects.create(name="api-path", tracking_uri=mlflow_server.uri)
    sync_source(source.pk, full=True)
    pipeline, officer = client_for(dana), client_for(olivia)

    listed = pipeline.get("/api/v1/model-versions/", {"model_name": name}).json()
    [version] = listed["results"]
    detail = pipeline.get(f"/api/v1/model-versions/{version['id']}/").json()
    assert detail["lineage"]["run"]["user_id"] == "derek"
    assert detail["metrics"][0]["key"] == "auc"
    assert detail["signature"]["inputs"] == [{"type": "double", "name": "income", "required": True}]

    created = pipeline.post(
        "/api/v1/requests/",
        {
            "model_version": version["id"],
            "target_kind": "stage",
            "target": "Production",
            "rationale": "Evaluation job passed: AUC 0.87.",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]

    # The approval's apply task is sent when its transaction commits; tests run
    # Celery eagerly, so it applies to MLflow right here.
    with django_capture_on_commit_callbacks(execute=True):
        approved = officer.post(
            f"/api/v1/requests/{request_id}/approve/",
            {"rationale": "Evidence reviewed.", "password": PASSWORD},
            format="json",
        )
    assert approved.status_code == 200, approved.content

    final = officer.get(f"/api/v1/requests/{request_id}/").json()
    assert final["status"] == "applied"
    assert final["apply_status"]["status"] == "done"
    assert mlflow.get_model_version(name, number).current_stage == "Production"

    timeline = officer.get(f"/api/v1/model-versions/{version['id']}/timeline/").json()
    actions = [entry["action"] for entry in timeline["results"]]
    assert actions.index("request.created") < actions.index("decision.approved")
    assert actions.index("decision.approved") < actions.index("request.applied")
    applied = next(e for e in timeline["results"] if e["action"] == "request.applied")
    assert applied["precision"] == "exact"

    holders = officer.get(
        f"/api/v1/models/{version['registered_model']}/holders/",
        {"at": timezone.now().isoformat(), "target_kind": "stage", "target": "Production"},
    ).json()
    [held] = holders["holdings"]
    assert (held["version"], held["precision"]) == (int(number), "exact")
    assert held["approved_by"] == ["Olivia Pope"]
