"""GET /api/v1/runs/{id}/metric-history/."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from governance.models import Run
from tests.api import data
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db


@pytest.fixture
def run() -> Run:
    run = data.run(data.experiment("churn"), metrics={"loss": 0.1})
    data.history(run, "loss", [0.9, 0.5, float("inf")])
    data.history(run, "accuracy", [0.6])
    return run


def _url(run: Run) -> str:
    return f"/api/v1/runs/{run.pk}/metric-history/"


def test_it_returns_every_point_of_one_metric(client_for: ClientFor, dana: User, run: Run) -> None:
    response = client_for(dana).get(_url(run), {"key": "loss"})

    assert response.status_code == 200
    assert [(p["step"], p["value"]) for p in response.json()["results"]] == [
        (0, 0.9),
        (1, 0.5),
        (2, "Infinity"),
    ]


def test_it_returns_all_metrics_without_a_key(client_for: ClientFor, erin: User, run: Run) -> None:
    response = client_for(erin).get(_url(run))

    assert [p["key"] for p in response.json()["results"]] == ["accuracy", "loss", "loss", "loss"]


def test_it_refuses_anonymous_callers(anonymous: APIClient, run: Run) -> None:
    assert anonymous.get(_url(run)).status_code == 401


def test_it_refuses_a_user_without_a_role(client_for: ClientFor, nobody: User, run: Run) -> None:
    assert client_for(nobody).get(_url(run)).status_code == 403


def test_it_rejects_an_empty_or_overlong_key(client_for: ClientFor, dana: User, run: Run) -> None:
    client = client_for(dana)

    empty = client.get(_url(run), {"key": ""})
    overlong = client.get(_url(run), {"key": "k" * 251})

    assert (empty.status_code, overlong.status_code) == (400, 400)
    assert empty.json()["error"]["details"] == {
        "key": ["Give a metric key of 1 to 250 characters."]
    }


def test_it_answers_404_for_an_unknown_run(client_for: ClientFor, dana: User) -> None:
    response = client_for(dana).get("/api/v1/runs/424242/metric-history/")

    assert response.status_code == 404
