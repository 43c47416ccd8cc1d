"""The MLflow boundary against a real tracking server."""

import math
import uuid

import pytest
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag

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


def test_it_reads_run_pages_as_json_exactly_as_the_mlflow_client_does(
    mlflow_server: MlflowServer,
) -> None:
    client = MlflowClient(tracking_uri=mlflow_server.uri)
    exp_id = client.create_experiment(f"gateway-{uuid.uuid4().hex[:8]}")
    run_id = client.create_run(exp_id, run_name="<b>ünï</b>").info.run_id
    client.log_param(run_id, "long", "p" * 5_000)
    client.set_tag(run_id, "note", "<script>alert(1)</script>")
    for key, value in [("nan", math.nan), ("inf", math.inf), ("neg", -math.inf), ("x", 0.5)]:
        client.log_metric(run_id, key, value, step=3)
    dataset = Dataset("iris", "abc123", "code", '{"p": 1}', '{"s": 1}', '{"n": 1}')
    client.log_inputs(
        run_id, datasets=[DatasetInput(dataset, [InputTag("mlflow.data.context", "eval")])]
    )
    client.set_terminated(run_id, "FAILED")
    as_json = MlflowGateway(mlflow_server.uri)
    as_entities = MlflowGateway(mlflow_server.uri)
    as_entities._rest_creds = None

    (json_page,) = list(as_json.iter_run_pages([exp_id]))
    (entity_page,) = list(as_entities.iter_run_pages([exp_id]))

    # repr, because NaN never equals itself.
    assert [repr(r) for r in json_page] == [repr(r) for r in entity_page]
    (run,) = json_page
    metrics = {m.key: m.value for m in run.metrics}
    assert math.isnan(metrics.pop("nan"))
    assert metrics == {"inf": math.inf, "neg": -math.inf, "x": 0.5}
    assert run.params == {"long": "p" * 5_000} and run.status == "FAILED"
    assert run.datasets[0].context == "eval" and run.datasets[0].digest == "abc123"
