"""GET /api/v1/reports/...: the reports of the pages, as JSON."""

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from governance import ledger
from governance.unapproved import UNAPPROVED_ACTION
from tests.api import data
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db
REPORTS = [
    "/api/v1/reports/dataset-models/?dataset=d1",
    "/api/v1/reports/production-data/",
    "/api/v1/reports/holders/?at=2026-01-01T00:00:00Z",
    "/api/v1/reports/unapproved-changes/",
]


def test_models_trained_on_a_dataset_by_name_or_digest(client_for: ClientFor, erin: User) -> None:
    exp = data.experiment("churn")
    trained = data.run(exp, name="t", datasets=[("customers", "d1", "training"), ("x", "d9", "")])
    other = data.run(exp, name="o", datasets=[("prices", "d2", "training")])
    model = data.registered_model("scorer", aliases={"champion": 1})
    data.version(model, 1, trained_by=trained, stage="Production")
    data.version(model, 2, trained_by=other)
    client = client_for(erin)

    by_digest = client.get("/api/v1/reports/dataset-models/", {"dataset": "d1"}).json()
    by_name = client.get("/api/v1/reports/dataset-models/", {"dataset": "customers"}).json()

    [row] = by_digest["results"]
    assert (row["model"], row["version"], row["stage"]) == ("scorer", 1, "Production")
    assert row["aliases"] == ["champion"]
    assert [(d["name"], d["digest"]) for d in row["datasets"]] == [("customers", "d1")]
    assert by_name["results"] == by_digest["results"]


def test_runs_on_production_data_say_why(client_for: ClientFor, erin: User) -> None:
    exp = data.experiment("churn")
    data.run(exp, name="by-context", datasets=[("live", "p1", "production")], minutes=2)
    data.run(exp, name="by-tag", tags={"data.production": "true"}, minutes=1)
    data.run(exp, name="tag-says-no", tags={"data.production": "false"})

    body = client_for(erin).get("/api/v1/reports/production-data/").json()

    assert [(r["run_name"], r["reasons"]) for r in body["results"]] == [
        ("by-context", ["dataset live (p1) used as production"]),
        ("by-tag", ["tag data.production = true"]),
    ]


def test_what_held_production_across_models_on_a_date(client_for: ClientFor, erin: User) -> None:
    data.registered_model("scorer")
    data.registered_model("ranker")
    with transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action="request.applied",
                object_type="transition_request",
                precision="exact",
                source_name="default",
                model_name="scorer",
                version=4,
                target="Production",
                after={"stage": "Production"},
                details={"target_kind": "stage", "request_id": 1},
            )
        )

    body = (
        client_for(erin).get("/api/v1/reports/holders/", {"at": timezone.now().isoformat()}).json()
    )

    assert [(r["model"], r["holding"]["version"]) for r in body["results"]] == [("scorer", 4)]


def test_unapproved_changes_are_listed(client_for: ClientFor, olivia: User) -> None:
    with transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action=UNAPPROVED_ACTION,
                object_type="model_version",
                precision="observed",
                source_name="default",
                model_name="scorer",
                version=2,
                target="Production",
            )
        )

    body = client_for(olivia).get("/api/v1/reports/unapproved-changes/", {"model": "scorer"})

    assert body.status_code == 200
    assert [(r["model_name"], r["target"]) for r in body.json()["results"]] == [
        ("scorer", "Production")
    ]


@pytest.mark.parametrize("url", REPORTS)
def test_reports_refuse_anonymous_callers(anonymous: APIClient, url: str) -> None:
    assert anonymous.get(url).status_code == 401


@pytest.mark.parametrize("url", REPORTS)
def test_reports_refuse_a_user_without_a_role(
    client_for: ClientFor, nobody: User, url: str
) -> None:
    assert client_for(nobody).get(url).status_code == 403


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/reports/dataset-models/", "dataset"),
        ("/api/v1/reports/dataset-models/?dataset=" + "x" * 501, "dataset"),
        ("/api/v1/reports/holders/", "at"),
        ("/api/v1/reports/holders/?at=2026-01-01T00:00:00Z&target_kind=label", "target_kind"),
        ("/api/v1/reports/unapproved-changes/?source=" + "s" * 65, "source"),
    ],
)
def test_reports_reject_bad_input(client_for: ClientFor, dana: User, url: str, field: str) -> None:
    response = client_for(dana).get(url)

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
