"""Small builders of mirror rows for view tests, written straight through the ORM."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User

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
    TransitionRequest,
)

_ids = itertools.count(1)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def source(name: str = "default") -> MlflowSource:
    found, _ = MlflowSource.objects.get_or_create(
        name=name, defaults={"tracking_uri": "http://mlflow.test"}
    )
    return found


def experiment(name: str = "churn", **fields: Any) -> Experiment:
    return Experiment.objects.create(
        source=fields.pop("source", None) or source(),
        experiment_id=str(next(_ids)),
        name=name,
        lifecycle_stage="active",
        content_hash="x",
        **fields,
    )


def run(
    exp: Experiment,
    name: str = "",
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    **fields: Any,
) -> Run:
    number = next(_ids)
    fields.setdefault("status", "FINISHED")
    fields.setdefault("lifecycle_stage", "active")
    fields.setdefault("start_time", T0 + timedelta(minutes=number))
    created = Run.objects.create(
        source=exp.source,
        experiment=exp,
        run_id=f"run{number:06d}",
        name=name or f"run-{number}",
        params=params or {},
        content_hash="x",
        **fields,
    )
    for key, value in (metrics or {}).items():
        nan = value != value
        RunMetric.objects.create(
            run=created, key=key, value=None if nan else value, is_nan=nan, step=0
        )
    return created


def history(run_row: Run, key: str, values: list[float]) -> None:
    MetricHistory.objects.bulk_create(
        MetricHistory(run=run_row, key=key, step=step, timestamp_ms=step, value=value)
        for step, value in enumerate(values)
    )


def dataset(run_row: Run, name: str, digest: str, context: str = "training") -> DatasetInput:
    return DatasetInput.objects.create(
        run=run_row, name=name, digest=digest, context=context, source_type="local"
    )


def logged_model(run_row: Run, name: str = "model", **fields: Any) -> LoggedModel:
    return LoggedModel.objects.create(
        source=run_row.source,
        model_id=f"m-{next(_ids):06d}",
        experiment_id=run_row.experiment.experiment_id,
        run_id=run_row.run_id,
        name=name,
        content_hash="x",
        **fields,
    )


def registered_model(name: str = "churn-model", **fields: Any) -> RegisteredModel:
    return RegisteredModel.objects.create(
        source=fields.pop("source", None) or source(), name=name, content_hash="x", **fields
    )


def version(
    model: RegisteredModel, number: int, training_run: Run | None = None, **fields: Any
) -> ModelVersion:
    return ModelVersion.objects.create(
        registered_model=model,
        version=number,
        training_run=training_run,
        run_id=fields.pop("run_id", training_run.run_id if training_run else ""),
        content_hash="x",
        **fields,
    )


def transition_request(
    mv: ModelVersion, requester: User, target: str = "Production", **fields: Any
) -> TransitionRequest:
    fields.setdefault("status", TransitionRequest.Status.PENDING)
    return TransitionRequest.objects.create(
        registered_model=mv.registered_model,
        model_version=mv,
        target_kind=TransitionRequest.TargetKind.STAGE,
        target=target,
        requested_by=requester,
        rationale="Better recall on the holdout set.",
        created_at=T0,
        evidence={},
        evidence_hash="0" * 64,
        **fields,
    )
