"""The MLflow boundary against a real tracking server."""

import pytest

from governance.mlflow_gateway import MlflowGateway, MlflowNotFound, MlflowUnavailable
from tests.support.mlflow_server import MlflowServer
from tests.support.services import free_port


def test_it_reports_a_missing_model_as_not_found(mlflow_server: MlflowServer) -> None:
    gateway = MlflowGateway(mlflow_server.uri)

    with pytest.raises(MlflowNotFound):
        gateway.get_registered_model("no-such-model-anywhere")


def test_it_reports_a_dead_server_as_unavailable() -> None:
    gateway = MlflowGateway(f"http://127.0.0.1:{free_port()}")

    with pytest.raises(MlflowUnavailable):
        list(gateway.iter_experiments())
