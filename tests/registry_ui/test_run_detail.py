"""One run in detail: everything the mirror knows about it."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.registry_ui import mirror_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db


def test_it_shows_params_metrics_tags_datasets_and_lineage(reader: Client) -> None:
    exp = mirror_data.experiment("churn")
    parent = mirror_data.run(exp, "sweep")
    run = mirror_data.run(
        exp,
        "trial-1",
        {"accuracy": 0.91, "loss": float("inf"), "auc": float("nan")},
        {"optimizer": "adam"},
        tags={"team": "risk", "mlflow.source.git.repoURL": "https://git.example/acme/churn"},
        git_commit="0123abcd",
        parent_run_id=parent.run_id,
    )
    child = mirror_data.run(exp, "fold-1", parent_run_id=run.run_id)
    mirror_data.dataset(run, "customers", "d1g3st", context="production")
    mirror_data.logged_model(run, "classifier")
    model = mirror_data.registered_model("churn-model")
    mirror_data.version(model, 2, run)
    mirror_data.history(run, "accuracy", [0.5, 0.8, float("nan"), 0.91])

    response = reader.get(f"/runs/{run.pk}/")

    assert response.status_code == 200
    body = response.content.decode()
    for text in ("adam", "0.91", "Infinity", "NaN", "risk", "d1g3st", "production", "0123abcd"):
        assert text in body
    assert f'href="/runs/{parent.pk}/"' in body
    assert f'href="/runs/{child.pk}/"' in body
    assert 'href="https://git.example/acme/churn"' in body
    assert "classifier" in body
    assert "churn-model" in body
    figure = response.context["history_figure"]
    assert figure["data"][0]["y"] == [0.5, 0.8, None, 0.91]
    assert 'type="application/json"' in body
    json.dumps(figure, allow_nan=False)


def test_it_refuses_to_link_a_javascript_repository(reader: Client) -> None:
    run = mirror_data.run(
        mirror_data.experiment(), tags={"mlflow.source.git.repoURL": "javascript:alert(1)"}
    )

    body = reader.get(f"/runs/{run.pk}/").content.decode()

    assert 'href="javascript:' not in body
    assert "javascript:alert(1)" in body


def test_it_answers_404_for_an_unknown_run(reader: Client) -> None:
    assert reader.get("/runs/999999/").status_code == 404


def test_it_sends_anonymous_visitors_to_login(client: Client) -> None:
    run = mirror_data.run(mirror_data.experiment())

    response = client.get(f"/runs/{run.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_user_without_role(nobody: User) -> None:
    run = mirror_data.run(mirror_data.experiment())

    assert client_for(nobody).get(f"/runs/{run.pk}/").status_code == 403
