"""Build mirror rows directly with the ORM for read tests."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from governance.models import (
    DatasetInput,
    Experiment,
    LoggedModel,
    MetricHistory,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    Run,
    RunMetric,
)

_ids = itertools.count(1)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def source(name: str = "default") -> MlflowSource:
    found, _ = MlflowSource.objects.get_or_create(
        name=name, defaults={"tracking_uri": f"http://mlflow.example.test/{name}"}
    )
    return found


def experiment(name: str = "churn", **fields: Any) -> Experiment:
    number = next(_ids)
    fields.setdefault("source", source())
    return Experiment.objects.create(
        experiment_id=str(number),
        name=name,
        lifecycle_stage=fields.pop("lifecycle_stage", "active"),
        content_hash=f"hash-{number}",
        **fields,
    )


def run(
    exp: Experiment,
    *,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    datasets: list[tuple[str, str, str]] | None = None,
    minutes: int = 0,
    **fields: Any,
) -> Run:
    """Create a run with latest metrics and (name, digest, context) dataset inputs."""
    number = next(_ids)
    start = EPOCH + timedelta(minutes=minutes)
    created = Run.objects.create(
        source=exp.source,
        experiment=exp,
        run_id=fields.pop("run_id", f"run{number:028x}"),
        status=fields.pop("status", "FINISHED"),
        lifecycle_stage=fields.pop("lifecycle_stage", "active"),
        start_time=start,
        start_time_ms=int(start.timestamp() * 1000),
        params=params or {},
        content_hash=f"hash-{number}",
        **fields,
    )
    for key, value in (metrics or {}).items():
        is_nan = value != value
        RunMetric.objects.create(
            run=created, key=key, value=None if is_nan else value, is_nan=is_nan, step=1
        )
    for name, digest, context in datasets or []:
        DatasetInput.objects.create(run=created, name=name, digest=digest, context=context)
    return created


def history(of: Run, key: str, values: list[float]) -> None:
    for step, value in enumerate(values):
        MetricHistory.objects.create(
            run=of, key=key, step=step, timestamp_ms=1_700_000_000_000 + step, value=value
        )


def registered_model(name: str, **fields: Any) -> RegisteredModel:
    number = next(_ids)
    fields.setdefault("source", source())
    return RegisteredModel.objects.create(name=name, content_hash=f"hash-{number}", **fields)


def version(
    model: RegisteredModel, number: int, trained_by: Run | None = None, **fields: Any
) -> ModelVersion:
    return ModelVersion.objects.create(
        registered_model=model,
        version=number,
        training_run=trained_by,
        run_id=trained_by.run_id if trained_by else "",
        source_uri=fields.pop("source_uri", f"models:/m-{number}"),
        status=fields.pop("status", "READY"),
        content_hash=f"hash-v{number}-{next(_ids)}",
        **fields,
    )


def logged_model(of: Run, model_id: str, **fields: Any) -> LoggedModel:
    return LoggedModel.objects.create(
        source=of.source,
        model_id=model_id,
        experiment_id=of.experiment.experiment_id,
        run_id=of.run_id,
        name=fields.pop("name", "model"),
        content_hash=f"hash-{model_id}",
        **fields,
    )
