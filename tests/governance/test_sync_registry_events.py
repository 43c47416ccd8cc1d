"""Changes made directly in MLflow become exactly the right observed events."""

import pytest
from mlflow import MlflowClient

from governance.models import LedgerEntry, ModelVersion, RegisteredModel, SyncRun
from governance.sync import sync_model, sync_source
from tests.governance.sync_support import client_for, make_source, unique
from tests.support.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db


def _observed_since(seq: int) -> list[tuple[str, int | None, str, object, object]]:
    return [
        (e.action, e.version, e.target, e.before, e.after)
        for e in LedgerEntry.objects.filter(seq__gt=seq)
        .exclude(action="mlflow.unapproved_change")
        .order_by("seq")
    ]


def _last_seq() -> int:
    last = LedgerEntry.objects.order_by("-seq").first()
    return last.seq if last else 0


def _model_with_versions(client: MlflowClient, count: int) -> str:
    exp_id = client.create_experiment(unique("registry"))
    run = client.create_run(exp_id)
    client.set_terminated(run.info.run_id)
    name = unique("model")
    client.create_registered_model(name)
    for _ in range(count):
        client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
    return name


def test_moving_an_alias_records_alias_moved_with_both_versions(
    mlflow_server: MlflowServer,
) -> None:
    client = client_for(mlflow_server)
    name = _model_with_versions(client, 2)
    client.set_registered_model_alias(name, "champion", "1")
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    seq = _last_seq()

    client.set_registered_model_alias(name, "champion", "2")
    summary = sync_source(source.pk)

    assert _observed_since(seq) == [
        ("mlflow.alias_moved", 2, "champion", {"version": 1}, {"version": 2})
    ]
    assert summary.events == LedgerEntry.objects.filter(seq__gt=seq).count()
    moved = LedgerEntry.objects.get(seq__gt=seq, action="mlflow.alias_moved")
    first = SyncRun.objects.filter(source=source).order_by("started_at").first()
    assert first is not None
    assert moved.window_start == first.started_at
    assert moved.source_name == source.name and moved.model_name == name
    assert RegisteredModel.objects.get(source=source, name=name).aliases == {"champion": 2}
    flagged = LedgerEntry.objects.filter(seq__gt=seq, action="mlflow.unapproved_change")
    assert [e.details["observed_action"] for e in flagged] == ["mlflow.alias_moved"]


def test_setting_and_removing_aliases_record_set_and_removed(
    mlflow_server: MlflowServer,
) -> None:
    client = client_for(mlflow_server)
    name = _model_with_versions(client, 2)
    client.set_registered_model_alias(name, "old", "1")
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    seq = _last_seq()

    client.delete_registered_model_alias(name, "old")
    client.set_registered_model_alias(name, "challenger", "2")
    sync_source(source.pk)

    assert _observed_since(seq) == [
        ("mlflow.alias_set", 2, "challenger", None, {"version": 2}),
        ("mlflow.alias_removed", 1, "old", {"version": 1}, None),
    ]


def test_a_stage_transition_records_stage_changed_from_and_to(
    mlflow_server: MlflowServer,
) -> None:
    client = client_for(mlflow_server)
    name = _model_with_versions(client, 1)
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    seq = _last_seq()

    client.transition_model_version_stage(name, "1", "Staging")
    sync_source(source.pk)
    client.transition_model_version_stage(name, "1", "Production")
    sync_source(source.pk)

    assert _observed_since(seq) == [
        ("mlflow.stage_changed", 1, "Staging", {"stage": "None"}, {"stage": "Staging"}),
        ("mlflow.stage_changed", 1, "Production", {"stage": "Staging"}, {"stage": "Production"}),
    ]
    version = ModelVersion.objects.get(
        registered_model__source=source, registered_model__name=name, version=1
    )
    assert version.stage == "Production"


def test_deleting_a_version_in_mlflow_records_version_deleted_and_keeps_a_tombstone(
    mlflow_server: MlflowServer,
) -> None:
    client = client_for(mlflow_server)
    name = _model_with_versions(client, 2)
    client.transition_model_version_stage(name, "2", "Staging")
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    seq = _last_seq()

    client.delete_model_version(name, "2")
    summary = sync_source(source.pk)

    assert _observed_since(seq) == [("mlflow.version_deleted", 2, "", {"stage": "Staging"}, None)]
    assert summary.deleted == 1
    version = ModelVersion.objects.get(
        registered_model__source=source, registered_model__name=name, version=2
    )
    assert version.deleted_observed_at is not None
    assert sync_source(source.pk, full=True).events == 0


def test_deleting_a_model_records_its_versions_and_itself_as_deleted(
    mlflow_server: MlflowServer,
) -> None:
    client = client_for(mlflow_server)
    name = _model_with_versions(client, 1)
    client.set_registered_model_alias(name, "gone", "1")
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    seq = _last_seq()

    client.delete_registered_model(name)
    sync_source(source.pk)

    assert _observed_since(seq) == [
        ("mlflow.version_deleted", 1, "", {"stage": "None"}, None),
        ("mlflow.model_deleted", None, "", {"description": "", "aliases": [["gone", 1]]}, None),
    ]
    assert RegisteredModel.objects.get(source=source, name=name).deleted_observed_at


def test_tag_and_description_edits_are_recorded_by_full_reconciliation(
    mlflow_server: MlflowServer,
) -> None:
    client = client_for(mlflow_server)
    name = _model_with_versions(client, 1)
    client.set_model_version_tag(name, "1", "validated", "no")
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    seq = _last_seq()

    client.set_model_version_tag(name, "1", "validated", "yes")
    client.set_model_version_tag(name, "1", "db_password", "hunter2")
    client.update_model_version(name, "1", description="<b>checked</b>")
    client.update_registered_model(name, description="credit scoring")
    sync_source(source.pk, full=True)

    assert _observed_since(seq) == [
        (
            "mlflow.description_changed",
            None,
            "",
            {"description": ""},
            {"description": "credit scoring"},
        ),
        (
            "mlflow.description_changed",
            1,
            "",
            {"description": ""},
            {"description": "<b>checked</b>"},
        ),
        ("mlflow.tag_changed", 1, "db_password", None, {"value": "[redacted]"}),
        ("mlflow.tag_changed", 1, "validated", {"value": "no"}, {"value": "yes"}),
    ]
    version = ModelVersion.objects.get(
        registered_model__source=source, registered_model__name=name, version=1
    )
    assert version.tags == {"validated": "yes", "db_password": "hunter2"}


def test_a_targeted_model_sync_records_a_new_version(mlflow_server: MlflowServer) -> None:
    client = client_for(mlflow_server)
    name = _model_with_versions(client, 1)
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    seq = _last_seq()
    run_id = client.get_model_version(name, "1").run_id

    client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    summary = sync_model(source.pk, name)

    assert summary.created == 1 and not summary.skipped
    observed = _observed_since(seq)
    assert [(a, v) for a, v, *_ in observed] == [("mlflow.version_registered", 2)]
    assert observed[0][4] == {
        "stage": "None",
        "status": "READY",
        "source": f"runs:/{run_id}/model",
        "run_id": run_id,
    }
    record = SyncRun.objects.get(source=source, kind="model")
    assert record.target == name and record.status == "succeeded"
    assert sync_model(source.pk, name).events == 0
