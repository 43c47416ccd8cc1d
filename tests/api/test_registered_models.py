"""GET /api/v1/models/: registered models with risk tier, stages and aliases."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from governance.models import LedgerEntry
from tests.api import data
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db
URL = "/api/v1/models/"


def test_it_lists_models_with_who_holds_each_stage_and_alias(
    client_for: ClientFor, erin: User
) -> None:
    model = data.registered_model("scorer", risk_tier="high", aliases={"champion": 2})
    data.version(model, 1, stage="Archived")
    data.version(model, 2, stage="Production")
    data.version(model, 3, stage="Production", deleted_observed_at=datetime.now(UTC))

    row = client_for(erin).get(URL).json()["results"][0]

    assert row["name"] == "scorer"
    assert row["risk_tier"] == "high"
    assert row["aliases"] == {"champion": 2}
    assert row["stages"] == {"Archived": [1], "Production": [2]}


def test_it_filters_by_name_tier_and_deletion(client_for: ClientFor, dana: User) -> None:
    data.registered_model("scorer", risk_tier="high")
    data.registered_model("ranker", deleted_observed_at=datetime.now(UTC))
    client = client_for(dana)

    def names(query: dict[str, str]) -> list[str]:
        return [m["name"] for m in client.get(URL, query).json()["results"]]

    assert names({"risk_tier": "high"}) == ["scorer"]
    assert names({"deleted": "true"}) == ["ranker"]
    assert names({"deleted": "false"}) == ["scorer"]
    assert names({"name": "ranker"}) == ["ranker"]


def test_it_shows_one_model(client_for: ClientFor, olivia: User) -> None:
    model = data.registered_model("scorer")

    response = client_for(olivia).get(f"{URL}{model.pk}/")

    assert response.status_code == 200
    assert response.json()["name"] == "scorer"


def test_it_refuses_anonymous_callers(anonymous: APIClient) -> None:
    assert anonymous.get(URL).status_code == 401


def test_it_refuses_a_user_without_a_role(client_for: ClientFor, nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403


def test_it_rejects_an_unknown_risk_tier(client_for: ClientFor, dana: User) -> None:
    response = client_for(dana).get(URL, {"risk_tier": "extreme"})

    assert response.status_code == 400
    assert "risk_tier" in response.json()["error"]["details"]


def test_an_officer_sets_the_risk_tier_on_the_ledger(client_for: ClientFor, olivia: User) -> None:
    model = data.registered_model("scorer")

    response = client_for(olivia).post(
        f"{URL}{model.pk}/risk-tier/",
        {"risk_tier": "high", "reason": "Credit decisions."},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["risk_tier"] == "high"
    entry = LedgerEntry.objects.get(action="model.risk_tier_set")
    assert (entry.actor_username, entry.reason) == ("olivia", "Credit decisions.")


def test_only_officers_set_the_risk_tier(client_for: ClientFor, dana: User) -> None:
    model = data.registered_model("scorer")

    response = client_for(dana).post(
        f"{URL}{model.pk}/risk-tier/", {"risk_tier": "high", "reason": "Mine."}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "Only a governance officer can set a model's risk tier."
    )


def test_it_rejects_an_unknown_tier_to_set(client_for: ClientFor, olivia: User) -> None:
    model = data.registered_model("scorer")

    response = client_for(olivia).post(
        f"{URL}{model.pk}/risk-tier/", {"risk_tier": "extreme", "reason": "x"}, format="json"
    )

    assert response.status_code == 400
    assert "risk_tier" in response.json()["error"]["details"]
