"""A full sync mirrors every field of a real MLflow server exactly, then writes nothing."""

import math
import time
from functools import partial
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, LoggedModelStatus

from governance.models import (
    Experiment,
    LedgerEntry,
    LoggedModel,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    Run,
    RunMetric,
)
from governance.sync import SyncSummary, sync_source
from tests.governance.sync_support import (
    HOSTILE,
    HOSTILE_NAME,
    LONG_PARAM,
    SIGNATURE,
    client_for,
    log_mlmodel,
    make_source,
    unique,
    writes_during,
)
from tests.support.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db


def _populate(client: MlflowClient) -> dict[str, Any]:
    """Write a small registry with every awkward value the sync must keep."""
    exp_name = unique(f"exp {HOSTILE}")
    exp_id = client.create_experiment(exp_name, tags={"team": HOSTILE})

    parent = client.create_run(exp_id, run_name=f"parent {HOSTILE}")
    pid = parent.info.run_id
    client.log_param(pid, "long", LONG_PARAM)
    client.log_param(pid, "hostile", HOSTILE)
    client.set_tag(pid, "mlflow.source.git.commit", "0123456789abcdef0123456789abcdef01234567")
    client.set_tag(pid, "mlflow.source.name", "train.py")
    client.set_tag(pid, "note", HOSTILE)
    for step, value in enumerate([0.5, 0.25, 0.125]):
        client.log_metric(pid, "loss", value, step=step, timestamp=1_700_000_000_000 + step)
    client.log_metric(pid, "nan_metric", math.nan)
    client.log_metric(pid, "pos_inf", math.inf)
    client.log_metric(pid, "neg_inf", -math.inf)
    dataset = Dataset(
        name="iris <b>",
        digest="d1g35t",
        source_type="code",
        source='{"path": "sklearn.datasets.load_iris"}',
        schema='{"mlflow_colspec": []}',
        profile='{"num_rows": 150}',
    )
    client.log_inputs(
        pid, datasets=[DatasetInput(dataset, tags=[InputTag("mlflow.data.context", "training")])]
    )
    logged = client.create_logged_model(exp_id, name="model", source_run_id=pid)
    log_mlmodel(client, logged.model_id)
    client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    client.set_terminated(pid, "FINISHED")

    child = client.create_run(exp_id, run_name="child", tags={"mlflow.parentRunId": pid})
    client.set_terminated(child.info.run_id, "FAILED")
    deleted = client.create_run(exp_id, run_name="to delete")
    client.set_terminated(deleted.info.run_id, "FINISHED")
    client.delete_run(deleted.info.run_id)

    gone_exp = client.create_experiment(unique("gone"))
    gone_run = client.create_run(gone_exp, run_name="in deleted experiment")
    client.delete_experiment(gone_exp)

    model = unique(f"model {HOSTILE_NAME}")
    client.create_registered_model(model, tags={"owner": HOSTILE}, description=HOSTILE)
    v1 = client.create_model_version(
        model, logged.model_uri, run_id=pid, model_id=logged.model_id, description="first"
    )
    v2 = client.create_model_version(
        model, logged.model_uri, run_id=pid, model_id=logged.model_id, tags={"k": HOSTILE}
    )
    v3 = client.create_model_version(model, logged.model_uri, run_id=pid, model_id=logged.model_id)
    client.transition_model_version_stage(model, v1.version, "Production")
    client.set_registered_model_alias(model, "champion", v2.version)
    client.delete_model_version(model, v3.version)
    return {
        "exp_id": exp_id,
        "exp_name": exp_name,
        "parent": pid,
        "child": child.info.run_id,
        "deleted_run": deleted.info.run_id,
        "gone_exp": gone_exp,
        "gone_run": gone_run.info.run_id,
        "model": model,
        "model_id": logged.model_id,
    }


def test_it_mirrors_every_field_exactly(mlflow_server: MlflowServer) -> None:
    client = client_for(mlflow_server)
    data = _populate(client)
    source = make_source(mlflow_server)

    summary = sync_source(source.pk, full=True)

    assert summary.created > 0 and not summary.skipped and summary.error == ""
    experiment = Experiment.objects.get(source=source, experiment_id=data["exp_id"])
    assert experiment.name == data["exp_name"]
    assert experiment.tags == {"team": HOSTILE}
    assert experiment.lifecycle_stage == "active" and experiment.deleted_observed_at is None
    gone = Experiment.objects.get(source=source, experiment_id=data["gone_exp"])
    assert gone.lifecycle_stage == "deleted" and gone.deleted_observed_at is not None

    parent = Run.objects.get(source=source, run_id=data["parent"])
    remote = client.get_run(data["parent"])
    assert parent.name == f"parent {HOSTILE}"
    assert parent.status == "FINISHED"
    assert parent.params == {"long": LONG_PARAM, "hostile": HOSTILE}
    assert len(parent.params["long"]) == 5_000
    assert parent.tags == remote.data.tags
    assert parent.git_commit == "0123456789abcdef0123456789abcdef01234567"
    assert parent.source_name == "train.py"
    assert parent.start_time_ms == remote.info.start_time
    assert parent.end_time_ms == remote.info.end_time
    assert parent.user_id == remote.info.user_id
    assert parent.experiment == experiment
    metrics = {m.key: m for m in RunMetric.objects.filter(run=parent)}
    assert metrics["loss"].value == 0.125 and metrics["loss"].step == 2
    assert metrics["nan_metric"].value is None and metrics["nan_metric"].is_nan
    assert metrics["pos_inf"].value == math.inf and not metrics["pos_inf"].is_nan
    assert metrics["neg_inf"].value == -math.inf
    (dataset,) = parent.dataset_inputs.all()
    assert (dataset.name, dataset.digest, dataset.context) == ("iris <b>", "d1g35t", "training")
    assert dataset.source == '{"path": "sklearn.datasets.load_iris"}'
    assert dataset.schema == '{"mlflow_colspec": []}'

    child = Run.objects.get(source=source, run_id=data["child"])
    assert child.parent_run_id == data["parent"] and child.status == "FAILED"
    deleted_run = Run.objects.get(source=source, run_id=data["deleted_run"])
    assert deleted_run.lifecycle_stage == "deleted" and deleted_run.deleted_observed_at
    gone_run = Run.objects.get(source=source, run_id=data["gone_run"])
    assert gone_run.lifecycle_stage == "deleted" and gone_run.experiment == gone

    logged = LoggedModel.objects.get(source=source, model_id=data["model_id"])
    assert logged.run_id == data["parent"] and logged.status == "READY"
    assert logged.flavors["python_function"]["loader_module"] == "demo"
    assert logged.signature == SIGNATURE

    model = RegisteredModel.objects.get(source=source, name=data["model"])
    assert model.description == HOSTILE and model.tags == {"owner": HOSTILE}
    assert model.aliases == {"champion": 2}
    versions = {v.version: v for v in ModelVersion.objects.filter(registered_model=model)}
    assert versions[1].stage == "Production" and versions[1].description == "first"
    assert versions[1].training_run == parent and versions[1].logged_model_id == data["model_id"]
    assert versions[1].signature == SIGNATURE
    assert versions[2].tags == {"k": HOSTILE} and versions[2].deleted_observed_at is None
    # MLflow forgets a deleted version; the mirror never saw it, so it has no row.
    assert 3 not in versions
    history = list(MetricHistory.objects.filter(run=parent, key="loss").order_by("step"))
    assert [(h.step, h.value) for h in history] == [(0, 0.5), (1, 0.25), (2, 0.125)]

    actions = list(
        LedgerEntry.objects.filter(model_name=data["model"]).values_list(
            "action", "version", "target"
        )
    )
    assert ("mlflow.model_registered", None, "") in actions
    assert ("mlflow.version_registered", 1, "") in actions
    assert ("mlflow.version_registered", 2, "") in actions
    assert ("mlflow.alias_set", 2, "champion") in actions
    entry = LedgerEntry.objects.get(model_name=data["model"], action="mlflow.alias_set")
    assert entry.precision == "observed" and entry.source_name == source.name
    assert entry.window_start is None and entry.window_end is not None
    assert entry.after == {"version": 2}


def test_a_second_sync_writes_nothing_and_records_no_event(mlflow_server: MlflowServer) -> None:
    client = client_for(mlflow_server)
    _populate(client)
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    entries = LedgerEntry.objects.count()

    for full in (True, False):
        summaries: list[SyncSummary] = []
        writes = writes_during(partial(_sync_into, summaries, source.pk, full))

        assert writes == []
        assert LedgerEntry.objects.count() == entries
        (summary,) = summaries
        assert (summary.created, summary.updated, summary.deleted, summary.events) == (0, 0, 0, 0)
        assert summary.unchanged > 0


def _sync_into(summaries: list[SyncSummary], source_id: int, full: bool) -> None:
    summaries.append(sync_source(source_id, full=full))


def test_an_incremental_sync_picks_up_new_runs(mlflow_server: MlflowServer) -> None:
    client = client_for(mlflow_server)
    exp_id = client.create_experiment(unique("incremental"))
    first = client.create_run(exp_id, run_name="first")
    client.set_terminated(first.info.run_id)
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)

    second = client.create_run(exp_id, run_name="second")
    client.log_metric(second.info.run_id, "acc", 0.9)
    client.set_terminated(second.info.run_id)
    summary = sync_source(source.pk)

    assert summary.created == 1
    run = Run.objects.get(source=source, run_id=second.info.run_id)
    assert run.name == "second" and run.status == "FINISHED"
    assert RunMetric.objects.get(run=run, key="acc").value == 0.9


def test_a_tag_added_to_an_old_run_is_caught_by_full_reconciliation(
    mlflow_server: MlflowServer,
) -> None:
    client = client_for(mlflow_server)
    exp_id = client.create_experiment(unique("reconcile"))
    old = client.create_run(exp_id, run_name="old", start_time=int(time.time() * 1000) - 86_400_000)
    client.set_terminated(old.info.run_id, end_time=int(time.time() * 1000) - 86_000_000)
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)

    client.set_tag(old.info.run_id, "reviewed", "yes")
    sync_source(source.pk)
    assert "reviewed" not in Run.objects.get(source=source, run_id=old.info.run_id).tags

    summary = sync_source(source.pk, full=True)

    assert summary.updated == 1
    assert Run.objects.get(source=source, run_id=old.info.run_id).tags["reviewed"] == "yes"
