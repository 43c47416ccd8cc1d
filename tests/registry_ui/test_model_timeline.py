"""The chain of custody of a whole model: every version's entries, observed or exact."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(dana: User, olivia: User) -> workflow_data.Pair:
    return workflow_data.custody_history(dana, olivia)


def test_the_model_timeline_shows_observed_windows(
    reader: Client, pair: workflow_data.Pair
) -> None:
    response = reader.get(f"/models/{pair.model.pk}/timeline/")

    observed = response.context["rows"][0]
    assert observed.action == "Stage changed in MLflow"
    assert observed.precision == (
        "observed between 2026-03-02 09:00:00 UTC and 2026-03-02 09:10:00 UTC"
    )
    assert len(response.context["rows"]) == 4


def test_it_works_out_holders_only_for_a_moment_asked_about(
    reader: Client, pair: workflow_data.Pair
) -> None:
    plain = reader.get(f"/models/{pair.model.pk}/timeline/")
    asked = reader.get(f"/models/{pair.model.pk}/timeline/", {"as_of": "2026-03-02T11:00"})

    assert plain.context["holdings"] is None
    assert "Choose a moment" in plain.content.decode()
    [production] = asked.context["holdings"]
    assert (production.target, production.version) == ("Production", 2)


def test_it_sends_anonymous_visitors_to_the_login_page(
    client: Client, pair: workflow_data.Pair
) -> None:
    response = client.get(f"/models/{pair.model.pk}/timeline/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_user_without_a_role(nobody: User, pair: workflow_data.Pair) -> None:
    assert client_for(nobody).get(f"/models/{pair.model.pk}/timeline/").status_code == 403


def test_it_answers_404_for_an_unknown_model(reader: Client) -> None:
    assert reader.get("/models/999999/timeline/").status_code == 404
