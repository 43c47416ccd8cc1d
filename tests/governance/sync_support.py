"""Helpers for the sync tests: a source on a real server, data written through MLflow."""

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from mlflow import MlflowClient

from governance.models import MlflowSource
from tests.support.mlflow_server import MlflowServer

HOSTILE = "<script>alert(1)</script> & \"quotes\" 'single' — Ünïcødé ✓ 模型 🚀"
# Model names may not hold "/" or ":"; this one keeps both kinds of quote.
HOSTILE_NAME = HOSTILE.replace("/", "")
LONG_PARAM = "x" * 4_990 + "<b>end</b>"

SIGNATURE = {
    "inputs": [{"type": "double", "name": "sepal length", "required": True}],
    "outputs": [{"type": "long", "required": True}],
    "params": None,
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def client_for(server: MlflowServer) -> MlflowClient:
    return MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)


def make_source(server: MlflowServer, name: str | None = None) -> MlflowSource:
    return MlflowSource.objects.create(name=name or unique("src"), tracking_uri=server.uri)


def log_mlmodel(client: MlflowClient, model_id: str) -> None:
    """Write an MLmodel file with a flavor and a signature into a logged model."""
    mlmodel = {
        "artifact_path": "model",
        "flavors": {"python_function": {"loader_module": "demo", "python_version": "3.11"}},
        "model_uuid": uuid.uuid4().hex,
        "signature": {
            "inputs": json.dumps(SIGNATURE["inputs"]),
            "outputs": json.dumps(SIGNATURE["outputs"]),
            "params": None,
        },
    }
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "MLmodel").write_text(json.dumps(mlmodel))
        client.log_model_artifacts(model_id, folder)


def writes_during(action: Any) -> list[str]:
    """Run ``action`` and return the SQL statements it sent that change mirror rows."""
    with CaptureQueriesContext(connection) as queries:
        action()
    ignored = ("governance_syncrun", "governance_mlflowsource")
    writes = []
    for query in queries.captured_queries:
        sql = query["sql"].lstrip().upper()
        if sql.startswith(("INSERT", "UPDATE", "DELETE")) and not any(
            table.upper() in sql[:80] for table in ignored
        ):
            writes.append(query["sql"][:200])
    return writes
