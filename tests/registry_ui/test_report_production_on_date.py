"""What held Production and each governed alias at a moment, across all models."""

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.registry_ui import mirror_data, workflow_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def history() -> None:
    first = workflow_data.pair("fraud")
    second = workflow_data.pair("churn")
    workflow_data.observed_stage(first.model, 1, "Production", (0, 10))
    workflow_data.applied_stage(first.model, 2, "Production", 60)
    workflow_data.applied_stage(second.model, 1, "Production", 30)


def test_it_names_each_models_holder_and_precision(reader: Client, history: None) -> None:
    response = reader.get("/reports/production-on-date/", {"moment": "2026-03-02T09:45"})

    assert response.status_code == 200
    rows = [
        (row.model.name, row.holding.target, version, row.holding.precision_text)
        for row, version in response.context["rows"]
    ]
    assert rows == [
        ("churn", "Production", "1", "exact"),
        (
            "fraud",
            "Production",
            "1",
            "observed between 2026-03-02T09:00:00+00:00 and 2026-03-02T09:10:00+00:00",
        ),
    ]


def test_it_downloads_as_csv(reader: Client, history: None) -> None:
    response = reader.get(
        "/reports/production-on-date/", {"moment": "2026-03-02T10:30", "format": "csv"}
    )

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert rows[0][:4] == ["model", "source", "stage_or_alias", "version"]
    assert [row[:5] for row in rows[1:]] == [
        ["churn", "default", "Production", "1", "exact"],
        ["fraud", "default", "Production", "2", "exact"],
    ]


def test_it_says_why_each_holder_was_requested_and_approved(
    reader: Client, dana: User, olivia: User
) -> None:
    workflow_data.custody_history(dana, olivia)
    query = {"moment": "2026-03-02T10:30"}

    page = reader.get("/reports/production-on-date/", query)
    download = reader.get("/reports/production-on-date/", {**query, "format": "csv"})

    body = page.content.decode()
    assert 'Dana Scully<br><span class="muted">“AUC up from 0.81”</span>' in body
    assert 'Olivia Pope<br><span class="muted">“Recall is better.”</span>' in body
    [header, row] = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))  # type: ignore[attr-defined]
    found = dict(zip(header, row, strict=True))
    assert found["request_reason"] == "AUC up from 0.81"
    assert found["approved_by"] == "Olivia Pope"
    assert found["approval_reasons"] == "Olivia Pope: Recall is better."


def test_it_rejects_a_malformed_moment(reader: Client) -> None:
    response = reader.get("/reports/production-on-date/", {"moment": "31/02/2026"})

    assert response.status_code == 400
    assert response.context["form"].errors["moment"] == ["Enter a valid date/time."]


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/reports/production-on-date/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_user_without_a_role(nobody: User) -> None:
    assert client_for(nobody).get("/reports/production-on-date/").status_code == 403


def _models_in_production(first: int, last: int) -> None:
    for number in range(first, last):
        model = mirror_data.registered_model(f"m{number:02d}")
        mirror_data.version(model, 1, stage="Production")
        workflow_data.applied_stage(model, 1, "Production", 30, request_id=1000 + number)


def test_its_query_count_does_not_grow_with_models(
    reader: Client, django_assert_num_queries: Any
) -> None:
    query = {"moment": "2026-03-02T09:45"}
    _models_in_production(0, 3)
    with CaptureQueriesContext(connection) as with_three:
        reader.get("/reports/production-on-date/", query)
    _models_in_production(3, 12)

    with django_assert_num_queries(len(with_three.captured_queries)):
        response = reader.get("/reports/production-on-date/", query)

    assert len(response.context["rows"]) == 12
