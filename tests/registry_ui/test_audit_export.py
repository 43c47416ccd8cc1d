"""The auditors' copy of a model's ledger for a period: page, CSV and JSON, verified."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from governance import ledger, workflow
from governance.models import LedgerEntry
from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for
from tests.support import personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(dana: User, olivia: User) -> workflow_data.Pair:
    pair = workflow_data.pair()
    other = workflow_data.pair("other-model")
    workflow_data.observed_stage(pair.model, 1, "Production", (0, 10))
    workflow_data.requested(dana, other.candidate)
    transition = workflow_data.requested(dana, pair.candidate)
    workflow.decide(olivia, transition.pk, "approved", "Fine.", personas.PASSWORD)
    return pair


def query(pair: workflow_data.Pair, **extra: str) -> dict[str, str]:
    return {"model": str(pair.model.pk), **extra}


def test_the_page_shows_each_entry_with_hashes_and_its_check(
    reader: Client, pair: workflow_data.Pair
) -> None:
    response = reader.get("/audit/", query(pair))

    assert response.status_code == 200
    audited = response.context["page"].object_list
    assert [item.row.entry.action for item in audited] == [
        "mlflow.stage_changed",
        "request.created",
        "decision.approved",
    ]
    assert all(item.verified for item in audited)
    assert response.context["chain"].intact
    body = response.content.decode()
    for item in audited:
        assert item.row.entry.entry_hash in body
        assert item.row.entry.prev_hash in body
    assert "Intact" in body


def test_the_period_narrows_the_copy(reader: Client, pair: workflow_data.Pair) -> None:
    response = reader.get("/audit/", query(pair, since="2026-03-02", until="2026-03-02"))

    assert [item.row.entry.action for item in response.context["page"].object_list] == [
        "mlflow.stage_changed"
    ]


def test_the_json_copy_lets_a_machine_recheck_every_hash(
    reader: Client, pair: workflow_data.Pair
) -> None:
    response = reader.get("/audit/", query(pair, format="json"))

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="ledger-credit-scorer')
    body = json.loads(response.content)
    assert body["model"] == {"source": "default", "name": "credit-scorer"}
    assert body["chain"]["intact"] is True
    for entry in body["entries"]:
        assert ledger.hash_text(entry["canonical"]) == entry["entry_hash"]
        assert json.loads(entry["canonical"])["prev_hash"] == entry["prev_hash"]
        assert entry["verification"] == {"verified": True, "detail": "verified"}
    assert [e["action"] for e in body["entries"]][-1] == "decision.approved"


def test_the_csv_copy_has_hashes_and_checks(reader: Client, pair: workflow_data.Pair) -> None:
    response = reader.get("/audit/", query(pair, format="csv"))

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert [row["action"] for row in rows] == [
        "mlflow.stage_changed",
        "request.created",
        "decision.approved",
    ]
    assert {row["verified"] for row in rows} == {"yes"}
    assert len(rows[0]["entry_hash"]) == 64


def test_an_edited_entry_is_marked_as_not_verified(
    reader: Client, pair: workflow_data.Pair, postgres_required: None
) -> None:
    edited = LedgerEntry.objects.get(action="request.created", model_name="credit-scorer")
    with connection.cursor() as cursor:
        # The append-only triggers refuse updates; a superuser can get past them.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE governance_ledgerentry SET reason = 'Nothing to see' WHERE id = %s",
            [edited.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")

    response = reader.get("/audit/", query(pair))

    checks = {item.row.entry.seq: item for item in response.context["page"].object_list}
    assert not checks[edited.seq].verified
    assert "columns differ from the hashed record (reason)" in checks[edited.seq].detail
    assert not response.context["chain"].intact
    assert "Broken" in response.content.decode()


def test_it_rejects_an_unknown_model_or_format(reader: Client, pair: workflow_data.Pair) -> None:
    assert reader.get("/audit/", {"model": "999999"}).status_code == 400
    assert reader.get("/audit/", query(pair, format="xml")).status_code == 400
    inverted = reader.get("/audit/", query(pair, since="2026-04-01", until="2026-03-01"))
    assert inverted.status_code == 400


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/audit/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_data_scientist(dana: User) -> None:
    assert client_for(dana).get("/audit/").status_code == 403


def test_the_page_is_paged_but_the_downloads_are_complete(
    reader: Client, pair: workflow_data.Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("registry_ui.views.audit_export.PAGE_SIZE", 2)

    first = reader.get("/audit/", query(pair))
    second = reader.get("/audit/", query(pair, page="2"))
    download = json.loads(reader.get("/audit/", query(pair, format="json")).content)

    assert len(first.context["page"].object_list) == 2
    assert len(second.context["page"].object_list) == 1
    assert "(the downloads hold all 3)" in first.content.decode()
    assert len(download["entries"]) == 3
