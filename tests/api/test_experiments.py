"""GET /api/v1/experiments/."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.api import data
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db
URL = "/api/v1/experiments/"


def test_it_lists_and_filters_experiments(client_for: ClientFor, erin: User) -> None:
    data.experiment("churn", tags={"owner": "risk"})
    data.experiment("fraud", lifecycle_stage="deleted")
    client = client_for(erin)

    listed = client.get(URL).json()
    deleted = client.get(URL, {"lifecycle_stage": "deleted"}).json()
    named = client.get(URL, {"name_contains": "CHU"}).json()

    assert [e["name"] for e in listed["results"]] == ["churn", "fraud"]
    assert listed["results"][0]["tags"] == {"owner": "risk"}
    assert listed["results"][0]["source"] == "default"
    assert [e["name"] for e in deleted["results"]] == ["fraud"]
    assert [e["name"] for e in named["results"]] == ["churn"]


def test_it_shows_one_experiment(client_for: ClientFor, dana: User) -> None:
    exp = data.experiment("churn")

    response = client_for(dana).get(f"{URL}{exp.pk}/")

    assert response.status_code == 200
    assert response.json()["experiment_id"] == exp.experiment_id


def test_it_refuses_anonymous_callers(anonymous: APIClient) -> None:
    assert anonymous.get(URL).status_code == 401


def test_it_refuses_a_user_without_a_role(client_for: ClientFor, nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403


def test_it_rejects_an_unknown_lifecycle_stage(client_for: ClientFor, dana: User) -> None:
    response = client_for(dana).get(URL, {"lifecycle_stage": "archived"})

    assert response.status_code == 400
    assert "lifecycle_stage" in response.json()["error"]["details"]
