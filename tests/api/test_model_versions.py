"""GET /api/v1/model-versions/: versions with lineage, signature and metrics."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from governance.models import ModelVersion
from tests.api import data
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db
URL = "/api/v1/model-versions/"
SIGNATURE = {
    "inputs": [{"name": "age", "type": "long"}],
    "outputs": [{"type": "double"}],
    "params": None,
}


@pytest.fixture
def version() -> ModelVersion:
    exp = data.experiment("churn")
    run = data.run(
        exp,
        name="train",
        metrics={"auc": 0.8},
        datasets=[("train", "d1", "training")],
        git_commit="abc123",
        source_name="train.py",
        user_id="dana",
    )
    data.logged_model(run, "m-1", flavors={"sklearn": {"version": "1.5"}}, signature=SIGNATURE)
    model = data.registered_model("scorer", aliases={"champion": 1})
    return data.version(
        model, 1, trained_by=run, signature=SIGNATURE, logged_model_id="m-1", stage="Staging"
    )


def test_it_shows_lineage_signature_and_metrics(
    client_for: ClientFor, erin: User, version: ModelVersion
) -> None:
    response = client_for(erin).get(f"{URL}{version.pk}/")

    body = response.json()
    lineage = body["lineage"]
    assert response.status_code == 200
    assert body["aliases"] == ["champion"]
    assert body["signature"] == SIGNATURE
    assert body["metrics"] == [{"key": "auc", "value": 0.8, "step": 1, "timestamp_ms": 0}]
    assert lineage["experiment"]["name"] == "churn"
    assert lineage["run"]["name"] == "train"
    assert lineage["datasets"][0]["digest"] == "d1"
    assert lineage["code"] == {"git_commit": "abc123", "source_name": "train.py"}
    assert lineage["logged_model"]["flavors"] == {"sklearn": {"version": "1.5"}}


def test_it_shows_a_version_without_a_mirrored_run(client_for: ClientFor, dana: User) -> None:
    orphan = data.version(data.registered_model("orphan"), 4)

    body = client_for(dana).get(f"{URL}{orphan.pk}/").json()

    assert body["lineage"] == {
        "experiment": None,
        "run": None,
        "datasets": [],
        "code": None,
        "logged_model": None,
    }
    assert body["metrics"] == []


def test_it_filters_versions_by_model_and_stage(
    client_for: ClientFor, dana: User, version: ModelVersion
) -> None:
    data.version(version.registered_model, 2)
    client = client_for(dana)

    by_model = client.get(URL, {"model_name": "scorer"}).json()
    by_stage = client.get(URL, {"stage": "Staging"}).json()

    assert [v["version"] for v in by_model["results"]] == [2, 1]
    assert [v["version"] for v in by_stage["results"]] == [1]


def test_it_refuses_anonymous_callers(anonymous: APIClient) -> None:
    assert anonymous.get(URL).status_code == 401


def test_it_refuses_a_user_without_a_role(client_for: ClientFor, nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403


def test_it_rejects_a_model_id_that_is_not_a_number(client_for: ClientFor, dana: User) -> None:
    response = client_for(dana).get(URL, {"model": "scorer"})

    assert response.status_code == 400
    assert "model" in response.json()["error"]["details"]
