"""The incremental pass follows runs that change after they start, and their history."""

import time

import pytest

from governance.models import MetricHistory, Run, RunMetric
from governance.sync import sync_source
from tests.governance.sync_support import client_for, make_source, unique, writes_during
from tests.support.mlflow_server import MlflowServer

pytestmark = pytest.mark.django_db

DAY_MS = 86_400_000


def test_an_old_run_that_finishes_now_is_updated_incrementally(
    mlflow_server: MlflowServer,
) -> None:
    client = client_for(mlflow_server)
    exp_id = client.create_experiment(unique("long-running"))
    now_ms = int(time.time() * 1000)
    run_id = client.create_run(exp_id, start_time=now_ms - DAY_MS).info.run_id
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    assert Run.objects.get(source=source, run_id=run_id).status == "RUNNING"

    client.log_metric(run_id, "auc", 0.8)
    client.set_terminated(run_id, "KILLED")
    summary = sync_source(source.pk)

    run = Run.objects.get(source=source, run_id=run_id)
    assert run.status == "KILLED" and run.end_time_ms is not None
    assert RunMetric.objects.get(run=run, key="auc").value == 0.8
    assert summary.updated >= 1


def test_metric_history_is_fetched_again_only_when_the_metrics_moved(
    mlflow_server: MlflowServer,
) -> None:
    client = client_for(mlflow_server)
    exp_id = client.create_experiment(unique("history"))
    run_id = client.create_run(exp_id).info.run_id
    client.log_metric(run_id, "loss", 1.0, step=0)
    name = unique("history-model")
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    run = Run.objects.get(source=source, run_id=run_id)
    assert list(MetricHistory.objects.filter(run=run).values_list("step", "value")) == [(0, 1.0)]

    client.log_metric(run_id, "loss", 0.5, step=1)
    sync_source(source.pk)

    assert list(MetricHistory.objects.filter(run=run).values_list("step", "value")) == [
        (0, 1.0),
        (1, 0.5),
    ]
    assert writes_during(lambda: sync_source(source.pk)) == []
