"""The report of changes made in MLflow that no approval explains: page and CSV."""

import csv
import io
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from governance import ledger
from governance.models import RegisteredModel
from governance.unapproved import flag_unapproved
from tests.registry_ui import mirror_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db

URL = "/reports/unapproved-changes/"
HOSTILE = '<img src=x onerror="alert(1)">'


def _observe(model: RegisteredModel, action: str, day: int, **fields: Any) -> None:
    """Record what a sync on ``day`` of March 2026 saw, as the sync flags it."""
    seen = datetime(2026, 3, day, 12, tzinfo=UTC)
    draft = ledger.EntryDraft(
        action=action,
        object_type="model_version",
        precision="observed",
        source_name=model.source.name,
        model_name=model.name,
        window_start=seen.replace(hour=11),
        window_end=seen,
        **fields,
    )
    with mock.patch("django.utils.timezone.now", return_value=seen), transaction.atomic():
        ledger.append_many([draft, *flag_unapproved([draft])])


@pytest.fixture
def changes() -> RegisteredModel:
    fraud = mirror_data.registered_model("fraud")
    hostile = mirror_data.registered_model(f"churn {HOSTILE}")
    _observe(
        fraud,
        "mlflow.stage_changed",
        2,
        version=3,
        target="Production",
        before={"stage": "Staging"},
        after={"stage": "Production"},
    )
    _observe(fraud, "mlflow.alias_set", 5, version=3, target="champion", after={"version": 3})
    _observe(hostile, "mlflow.alias_moved", 9, version=2, target=HOSTILE, after={"version": 2})
    # A tag edit is not a change of who holds what, so it is not flagged.
    _observe(fraud, "mlflow.tag_changed", 10, version=3, target="note", after={"value": "x"})
    return fraud


def test_it_lists_each_change_newest_first_with_its_window(
    reader: Client, changes: RegisteredModel
) -> None:
    response = reader.get(URL)

    assert response.status_code == 200
    rows = [
        (r.entry.entry.model_name, r.entry.entry.target, r.seen_as, r.entry.after)
        for r in response.context["rows"]
    ]
    assert rows == [
        (f"churn {HOSTILE}", HOSTILE, "Alias moved in MLflow", "version: 2"),
        ("fraud", "champion", "Alias set in MLflow", "version: 3"),
        ("fraud", "Production", "Stage changed in MLflow", "stage: Production"),
    ]
    oldest = response.context["rows"][-1]
    assert oldest.entry.precision == (
        "observed between 2026-03-02 11:00:00 UTC and 2026-03-02 12:00:00 UTC"
    )
    body = response.content.decode()
    assert f'href="/models/{changes.pk}/timeline/#entry-{oldest.entry.entry.seq}"' in body
    assert HOSTILE not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body


def test_it_filters_by_model_and_period(reader: Client, changes: RegisteredModel) -> None:
    by_model = reader.get(URL, {"model": "FRAUD"})
    by_period = reader.get(URL, {"since": "2026-03-03", "until": "2026-03-05"})

    assert [r.entry.entry.target for r in by_model.context["rows"]] == ["champion", "Production"]
    assert [r.entry.entry.target for r in by_period.context["rows"]] == ["champion"]


def test_it_downloads_every_change_as_csv(reader: Client, changes: RegisteredModel) -> None:
    response = reader.get(URL, {"model": "fraud", "format": "csv"})

    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:7] == [
        "ledger seq",
        "recorded (UTC)",
        "source",
        "model",
        "version",
        "stage or alias",
        "seen as",
    ]
    assert [row[2:8] for row in rows] == [
        ["default", "fraud", "3", "champion", "Alias set in MLflow", ""],
        ["default", "fraud", "3", "Production", "Stage changed in MLflow", "stage: Staging"],
    ]


def test_the_home_page_and_the_index_link_to_it(reader: Client, changes: RegisteredModel) -> None:
    assert f'href="{URL}"' in reader.get("/").content.decode()
    assert f'href="{URL}"' in reader.get("/reports/").content.decode()


@pytest.mark.parametrize(
    "query",
    [{"since": "2026-03-05", "until": "2026-03-01"}, {"since": "yesterday"}, {"format": "xls"}],
    ids=["inverted-period", "bad-date", "bad-format"],
)
def test_it_rejects_bad_input(reader: Client, query: dict[str, str]) -> None:
    response = reader.get(URL, query)

    assert response.status_code == 400
    assert "Download CSV" not in response.content.decode()


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_user_without_a_role(nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403
