"""The model inventory: holders, last change, open requests, unapproved changes."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import ledger
from governance.ledger import EntryDraft
from tests.registry_ui import mirror_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/models/"


def _record(action: str, model_name: str) -> None:
    with transaction.atomic():
        ledger.append(
            EntryDraft(
                action=action,
                object_type="registered_model",
                precision="observed",
                source_name="default",
                model_name=model_name,
            )
        )


def test_it_lists_holders_requests_and_unapproved_changes(reader: Client, dana: User) -> None:
    model = mirror_data.registered_model(
        "credit<i>", risk_tier="high", aliases={"champion": "3", "challenger": 4}
    )
    mirror_data.version(model, 2, stage="Archived")
    v3 = mirror_data.version(model, 3, stage="Production")
    v4 = mirror_data.version(model, 4)
    mirror_data.transition_request(v4, dana, target="Staging")
    _record("mlflow.unapproved_change", "credit<i>")
    _record("mlflow.alias_set", "credit<i>")
    mirror_data.registered_model("quiet")

    response = reader.get(URL)

    assert response.status_code == 200
    rows = {row.name: row for row in response.context["rows"]}
    credit = rows["credit<i>"]
    labels = [(h.label, h.number, h.url) for h in credit.holdings]
    assert labels == [
        ("stage Production", "3", f"/models/versions/{v3.pk}/"),
        ("@challenger", "4", f"/models/versions/{v4.pk}/"),
        ("@champion", "3", f"/models/versions/{v3.pk}/"),
    ]
    assert credit.last_change_action == "mlflow.alias_set"
    assert (credit.risk, credit.versions, credit.open_requests, credit.unapproved) == (
        "High",
        "3",
        1,
        1,
    )
    assert credit.last_change.endswith(" UTC")
    assert (rows["quiet"].unapproved, rows["quiet"].holdings) == (0, [])
    body = response.content.decode()
    assert "credit&lt;i&gt;" in body
    assert '<a href="/reports/unapproved-changes/?model=credit%3Ci%3E">' in body
    assert "unapproved changes of credit&lt;i&gt;" in body
    assert f'href="/models/versions/{v3.pk}/"' in body
    assert '<span class="badge bad">High</span>' in body
    assert '<td class="num">3</td>' in body


def test_it_marks_a_model_gone_from_mlflow_and_spells_its_last_change(reader: Client) -> None:
    # The figures come through a raw cursor, past the ORM's converters: on SQLite
    # the times arrive as text and must still be read as times.
    mirror_data.registered_model("retired", deleted_observed_at=timezone.now())
    _record("mlflow.model_deleted", "retired")

    response = reader.get(URL)

    [row] = response.context["rows"]
    assert row.gone
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", row.last_change)
    assert "gone from MLflow" in response.content.decode()


def test_it_sends_anonymous_visitors_to_login(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_user_without_role(nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403


def test_it_ignores_unknown_query_parameters(reader: Client) -> None:
    assert reader.get(URL, {"sort": "'; DROP TABLE x"}).status_code == 200


def _add_models(first: int, last: int, dana: User) -> None:
    for number in range(first, last):
        model = mirror_data.registered_model(f"m{number}", aliases={"champion": 2})
        mirror_data.version(model, 1, stage="Staging")
        v2 = mirror_data.version(model, 2, stage="Production")
        mirror_data.transition_request(v2, dana, target="Staging")
        _record("mlflow.unapproved_change", f"m{number}")


def test_its_query_count_does_not_grow_with_models(
    reader: Client, dana: User, django_assert_num_queries: Any
) -> None:
    _add_models(0, 3, dana)
    with CaptureQueriesContext(connection) as with_three:
        reader.get(URL)
    _add_models(3, 12, dana)

    # The session, the user and the roles, then the figures, the stage holders and
    # the alias holders: the same for 3 models and for 12.
    with django_assert_num_queries(len(with_three.captured_queries)):
        response = reader.get(URL)

    assert len(with_three.captured_queries) <= 6
    assert len(response.context["rows"]) == 12
    assert [len(row.holdings) for row in response.context["rows"]] == [3] * 12
