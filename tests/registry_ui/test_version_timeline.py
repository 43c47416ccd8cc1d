"""The chain of custody of one version, with the as-of holder table."""

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from governance import ledger
from governance.models import LedgerEntry
from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(dana: User, olivia: User) -> workflow_data.Pair:
    return workflow_data.custody_history(dana, olivia)


def url(pair: workflow_data.Pair) -> str:
    return f"/models/versions/{pair.candidate.pk}/timeline/"


def test_it_lists_request_decision_and_application_in_order(
    reader: Client, pair: workflow_data.Pair
) -> None:
    response = reader.get(url(pair))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.action for row in rows] == [
        "Change requested",
        "Approved (signed)",
        "Applied in MLflow",
    ]
    requested, approved, applied = rows
    assert (requested.actor, requested.role) == ("Dana Scully", "data scientist")
    assert (approved.actor, approved.role, approved.entry.reason) == (
        "Olivia Pope",
        "governance officer",
        "Recall is better.",
    )
    assert applied.precision == "exact: 2026-03-02 10:00:00 UTC"
    assert requested.precision == "recorded when it happened"
    body = response.content.decode()
    assert f'id="entry-{approved.entry.seq}"' in body
    assert f'href="#entry-{approved.entry.seq}"' in body
    assert f'href="/requests/{approved.request_pk}/"' in body


def test_a_correction_points_at_the_entry_it_corrects(
    reader: Client, olivia: User, pair: workflow_data.Pair
) -> None:
    original = LedgerEntry.objects.get(action="decision.approved")
    with transaction.atomic():
        ledger.record_correction(
            original,
            actor=olivia,
            actor_role="governance_officer",
            reason="The rationale named the wrong metric.",
            after={"rationale": "AUC is better."},
        )

    body = reader.get(url(pair)).content.decode()

    assert f'corrects <a href="#entry-{original.seq}">#{original.seq}</a>' in body
    assert "Correction of an earlier entry" in body


def test_it_filters_by_action_and_date(reader: Client, pair: workflow_data.Pair) -> None:
    by_action = reader.get(url(pair), {"action": "decision.approved"})
    by_date = reader.get(f"/models/{pair.model.pk}/timeline/", {"until": "2026-03-02"})

    assert [row.entry.action for row in by_action.context["rows"]] == ["decision.approved"]
    assert [row.entry.action for row in by_date.context["rows"]] == [
        "mlflow.stage_changed",
        "request.applied",
    ]


def test_it_shows_who_held_production_as_of_a_moment(
    reader: Client, pair: workflow_data.Pair
) -> None:
    before = reader.get(url(pair), {"as_of": "2026-03-02T09:30"})
    after = reader.get(url(pair), {"as_of": "2026-03-02T10:30:00"})
    inside = reader.get(url(pair), {"as_of": "2026-03-02T09:05"})

    [held_before] = before.context["holdings"]
    [held_after] = after.context["holdings"]
    [held_inside] = inside.context["holdings"]
    assert (held_before.target, held_before.version) == ("Production", 1)
    assert held_before.precision_text.startswith("observed between")
    assert (held_after.version, held_after.precision_text) == (2, "exact")
    assert held_after.request_reason == "AUC up from 0.81"
    assert [(a.signer, a.reason) for a in held_after.approvals] == [
        ("Olivia Pope", "Recall is better.")
    ]
    assert held_inside.uncertain and held_inside.candidates == (None, 1)
    assert "as of 2026-03-02 10:30:00 UTC" in after.content.decode()
    assert "“Recall is better.”" in after.content.decode()
    assert "“AUC up from 0.81”" in after.content.decode()


def test_it_rejects_a_malformed_as_of_moment(reader: Client, pair: workflow_data.Pair) -> None:
    response = reader.get(url(pair), {"as_of": "yesterday-ish"})

    assert response.status_code == 400
    assert response.context["form"].errors["as_of"] == ["Enter a valid date/time."]


def test_it_rejects_an_inverted_period(reader: Client, pair: workflow_data.Pair) -> None:
    response = reader.get(url(pair), {"since": "2026-03-05", "until": "2026-03-01"})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "The first day must not come after the last day."
    ]


def test_it_rejects_an_unknown_action(reader: Client, pair: workflow_data.Pair) -> None:
    assert reader.get(url(pair), {"action": "<script>"}).status_code == 400


def test_it_sends_anonymous_visitors_to_the_login_page(
    client: Client, pair: workflow_data.Pair
) -> None:
    response = client.get(url(pair))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_user_without_a_role(nobody: User, pair: workflow_data.Pair) -> None:
    assert client_for(nobody).get(url(pair)).status_code == 403
