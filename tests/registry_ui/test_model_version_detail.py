"""One model version: lineage, signature, metrics, stage, aliases and the request button."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from governance.models import ModelVersion
from tests.registry_ui import mirror_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db

SIGNATURE = {
    "inputs": [
        {"type": "double", "name": "income", "required": True},
        {"type": "string", "name": "<img src=x onerror=alert(1)>", "required": False},
    ],
    "outputs": [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}],
    "params": [{"name": "threshold", "type": "float", "default": 0.5, "shape": None}],
}


@pytest.fixture
def version(db: None) -> ModelVersion:
    exp = mirror_data.experiment("credit-exp")
    run = mirror_data.run(exp, "train-7", {"auc": 0.88}, git_commit="feedbeef")
    mirror_data.dataset(run, "loans", "abc123", context="training")
    logged = mirror_data.logged_model(run, "scorer")
    model = mirror_data.registered_model("credit", aliases={"champion": 5})
    return mirror_data.version(
        model,
        5,
        run,
        stage="Staging",
        signature=SIGNATURE,
        logged_model_id=logged.model_id,
        user_id="dana",
    )


def url(version: ModelVersion) -> str:
    return f"/models/versions/{version.pk}/"


def test_it_shows_lineage_signature_metrics_and_aliases(
    reader: Client, version: ModelVersion
) -> None:
    response = reader.get(url(version))

    assert response.status_code == 200
    body = response.content.decode()
    for text in ("credit-exp", "train-7", "loans", "abc123", "feedbeef", "scorer", "@champion"):
        assert text in body
    assert "Staging" in body
    assert "0.88" in body
    signature = response.context["signature"]
    assert [(r.name, r.type, r.required) for r in signature.inputs] == [
        ("income", "double", "yes"),
        ("<img src=x onerror=alert(1)>", "string", "no"),
    ]
    assert signature.outputs[0].type == "tensor of float64"
    assert signature.outputs[0].detail == "shape [-1]"
    assert signature.params[0].detail == "default 0.5"
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "<img src=x" not in body


def test_it_offers_a_data_scientist_the_request_button(dana: User, version: ModelVersion) -> None:
    response = client_for(dana).get(url(version))

    assert response.status_code == 200
    assert response.context["request_url"] == f"/models/versions/{version.pk}/request/"
    assert f'href="/models/versions/{version.pk}/request/"' in response.content.decode()


def test_it_never_offers_the_request_button_to_an_executive(
    reader: Client, version: ModelVersion
) -> None:
    assert reader.get(url(version)).context["request_url"] == ""


def test_it_reads_a_version_without_run_or_signature(reader: Client) -> None:
    bare = mirror_data.version(mirror_data.registered_model("bare"), 1, run_id="gone")

    body = reader.get(url(bare)).content.decode()

    assert "has no signature" in body
    assert "not in the mirror" in body


def test_it_answers_404_for_an_unknown_version(reader: Client) -> None:
    assert reader.get("/models/versions/999999/").status_code == 404


def test_it_sends_anonymous_visitors_to_login(client: Client, version: ModelVersion) -> None:
    assert client.get(url(version)).status_code == 302


def test_it_refuses_a_user_without_role(nobody: User, version: ModelVersion) -> None:
    assert client_for(nobody).get(url(version)).status_code == 403


def test_its_query_count_does_not_grow_with_other_versions(
    reader: Client, version: ModelVersion, django_assert_max_num_queries: Any
) -> None:
    for number in range(6, 26):
        mirror_data.version(version.registered_model, number)

    with django_assert_max_num_queries(12):
        assert reader.get(url(version)).status_code == 200
