"""Register model versions in a real MLflow server, with a readable MLmodel file."""

import tempfile
from pathlib import Path

from mlflow import MlflowClient

MLMODEL = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: demo\n"


def register_version(client: MlflowClient, model_name: str, experiment_id: str) -> int:
    """Log an MLmodel in a new run of the experiment and register it; return the version."""
    run = client.create_run(experiment_id)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "MLmodel").write_text(MLMODEL)
        client.log_artifact(run.info.run_id, str(Path(folder) / "MLmodel"), "model")
    client.set_terminated(run.info.run_id)
    version = client.create_model_version(
        model_name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    )
    return int(version.version)
