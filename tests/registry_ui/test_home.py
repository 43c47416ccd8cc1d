"""The home page shows each role what it should look at first."""

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

URL = "/"

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_visitors_to_login(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")


def test_it_refuses_a_user_without_role(nobody: User) -> None:
    response = client_for(nobody).get(URL)

    assert response.status_code == 403


def test_it_shows_the_officer_requests_of_others(olivia: User, dana: User) -> None:
    model = mirror_data.registered_model("fraud-<b>model</b>")
    mv = mirror_data.version(model, 3)
    mirror_data.transition_request(mv, dana)

    response = client_for(olivia).get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Waiting for your decision" in body
    assert "fraud-&lt;b&gt;model&lt;/b&gt;" in body
    assert "My requests" not in body


def test_it_shows_a_data_scientist_their_requests(dana: User) -> None:
    mv = mirror_data.version(mirror_data.registered_model("churn"), 1)
    mirror_data.transition_request(mv, dana, target="Staging")

    body = client_for(dana).get(URL).content.decode()

    assert "My requests" in body
    assert "Staging" in body
    assert "Waiting for your decision" not in body


def test_it_shows_the_executive_what_is_in_production(erin: User) -> None:
    model = mirror_data.registered_model("pricing", aliases={"champion": 4, "scratch": 1})
    mirror_data.version(model, 2, stage="Production")

    body = client_for(erin).get(URL).content.decode()

    assert "In production now" in body
    assert "stage Production" in body
    assert "alias @champion" in body
    assert "@scratch" not in body


def test_its_query_count_does_not_grow_with_models_in_production(
    erin: User, django_assert_num_queries: Any
) -> None:
    def add_models(first: int, last: int) -> None:
        for number in range(first, last):
            model = mirror_data.registered_model(f"m{number:02d}", aliases={"champion": 2})
            mirror_data.version(model, 2, stage="Production")

    reader = client_for(erin)
    add_models(0, 3)
    with CaptureQueriesContext(connection) as with_three:
        reader.get(URL)
    add_models(3, 12)

    with django_assert_num_queries(len(with_three.captured_queries)):
        body = reader.get(URL).content.decode()

    assert body.count("stage Production") == 12
    assert body.count("alias @champion") == 12


def test_it_lists_unapproved_changes_and_sync_health(adam: User) -> None:
    source = mirror_data.source("default")
    source.last_success_at = timezone.now()
    source.save()
    with transaction.atomic():
        ledger.append(
            EntryDraft(
                action="mlflow.unapproved_change",
                object_type="model_version",
                precision="observed",
                model_name="credit-score",
                version=7,
                target="Production",
                details={"observed_action": "mlflow.stage_changed"},
            )
        )

    body = client_for(adam).get(URL).content.decode()

    assert "credit-score" in body
    assert "mlflow.stage_changed" in body
    assert "Last synced" in body
    assert '<span class="badge good">ok</span>' in body


def test_it_is_served_under_a_strict_content_security_policy(adam: User) -> None:
    response = client_for(adam).get(URL)

    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-eval" not in policy
    assert directives["object-src"] == "'none'"
    body = response.content.decode()
    assert "<script>" not in body
    assert 'name="csrfmiddlewaretoken"' in body
