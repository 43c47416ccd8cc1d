"""A version whose artifacts this machine cannot read is mirrored, not fatal."""

import uuid

import mlflow
import pytest

from governance.models import LedgerEntry, MlflowSource, ModelVersion
from governance.sync import sync_source
from tests.support.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db


def test_a_version_stored_in_an_unreachable_artifact_store_is_mirrored_without_metadata(
    mlflow_server: MlflowServer,
) -> None:
    client = mlflow.MlflowClient(tracking_uri=mlflow_server.uri)
    name = f"s3-only-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    client.create_model_version(name, source="s3://no-such-bucket/models/m-1")
    source = MlflowSource.objects.create(name=f"src-{name}", tracking_uri=mlflow_server.uri)

    summary = sync_source(source.pk, full=True)

    version = ModelVersion.objects.get(registered_model__name=name, version=1)
    assert summary.error == ""
    assert version.source_uri == "s3://no-such-bucket/models/m-1"
    assert version.signature is None
    assert LedgerEntry.objects.filter(
        action="mlflow.version_registered", model_name=name, version=1
    ).exists()
