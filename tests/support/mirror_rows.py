"""Build mirror rows directly, for workflow tests that need no sync pass."""

from django.utils import timezone

from governance.models import (
    DatasetInput,
    Experiment,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    Run,
    RunMetric,
)


def make_source(name: str = "local", uri: str = "http://127.0.0.1:1") -> MlflowSource:
    source, _ = MlflowSource.objects.get_or_create(name=name, defaults={"tracking_uri": uri})
    return source


def make_version(
    source: MlflowSource,
    model_name: str,
    version: int = 1,
    *,
    run_id: str = "",
    run_author: str = "dana",
    stage: str = "None",
    source_uri: str = "",
    metrics: dict[str, float] | None = None,
) -> ModelVersion:
    """Create (or reuse) the model and add one version with its training run."""
    experiment, _ = Experiment.objects.get_or_create(
        source=source,
        experiment_id="1",
        defaults={"name": "experiment", "lifecycle_stage": "active", "content_hash": "x"},
    )
    run = Run.objects.create(
        source=source,
        run_id=run_id or f"run-{model_name}-{version}",
        experiment=experiment,
        status="FINISHED",
        user_id=run_author,
        lifecycle_stage="active",
        params={"alpha": "0.5", "depth": str(version)},
        content_hash="x",
    )
    for key, value in (metrics or {"accuracy": 0.9, "loss": float("nan")}).items():
        RunMetric.objects.create(
            run=run, key=key, value=None if value != value else value, is_nan=value != value
        )
    DatasetInput.objects.create(run=run, name="train", digest=f"d{version}", context="training")
    model, _ = RegisteredModel.objects.get_or_create(
        source=source, name=model_name, defaults={"content_hash": "x"}
    )
    return ModelVersion.objects.create(
        registered_model=model,
        version=version,
        source_uri=source_uri or f"models:/m-{model_name}-{version}",
        run_id=run.run_id,
        training_run=run,
        status="READY",
        stage=stage,
        user_id=run_author,
        signature={"inputs": [{"type": "double", "name": "x"}]},
        creation_time=timezone.now(),
        content_hash="x",
    )


def register_in_mlflow(
    tracking_uri: str, source: MlflowSource, model_name: str, count: int = 1
) -> list[ModelVersion]:
    """Register ``count`` versions in a real MLflow server and mirror them as they are.

    Each version gets a training run of its own, created by the MLflow user "derek".
    """
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment_id = client.create_experiment(f"{model_name}-experiment")
    client.create_registered_model(model_name)
    rows = []
    for number in range(1, count + 1):
        run = client.create_run(experiment_id, tags={"mlflow.user": "derek"})
        client.log_param(run.info.run_id, "alpha", "0.5")
        client.log_metric(run.info.run_id, "accuracy", 0.9)
        uri = f"s3://models/{model_name}/{number}"
        remote = client.create_model_version(model_name, uri, run_id=run.info.run_id)
        rows.append(
            make_version(
                source,
                model_name,
                int(remote.version),
                run_id=run.info.run_id,
                run_author="derek",
                source_uri=uri,
            )
        )
    return rows
