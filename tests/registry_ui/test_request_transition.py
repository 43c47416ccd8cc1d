"""The request form: a data scientist asks for a stage or alias change of a version."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from governance.models import LedgerEntry, TransitionRequest
from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair() -> workflow_data.Pair:
    return workflow_data.pair()


def url(pair: workflow_data.Pair) -> str:
    return f"/models/versions/{pair.candidate.pk}/request/"


def test_it_creates_a_request_with_frozen_evidence(dana: User, pair: workflow_data.Pair) -> None:
    response = client_for(dana).post(
        url(pair), {"target": "stage:Production", "rationale": "AUC up from 0.81 to 0.87."}
    )

    created = TransitionRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{created.pk}/"
    assert (created.target_kind, created.target, created.requested_by) == (
        "stage",
        "Production",
        dana,
    )
    assert created.evidence["incumbent"]["fingerprint"]["version"] == 1
    entry = LedgerEntry.objects.get(action="request.created")
    assert (entry.actor_name, entry.reason) == ("Dana Scully", "AUC up from 0.81 to 0.87.")


def test_it_offers_the_stages_and_the_governed_aliases(
    dana: User, pair: workflow_data.Pair
) -> None:
    response = client_for(dana).get(url(pair))

    assert response.status_code == 200
    body = response.content.decode()
    for value in ("stage:Staging", "stage:Production", "stage:Archived", "alias:champion"):
        assert f'value="{value}"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert '<label for="id_rationale">' in body


def test_it_requests_an_alias(dana: User, pair: workflow_data.Pair) -> None:
    client_for(dana).post(url(pair), {"target": "alias:champion", "rationale": "Best recall."})

    created = TransitionRequest.objects.get()
    assert (created.target_kind, created.target) == ("alias", "champion")


def test_the_version_page_links_to_the_form(dana: User, pair: workflow_data.Pair) -> None:
    response = client_for(dana).get(f"/models/versions/{pair.candidate.pk}/")

    assert response.context["request_url"] == url(pair)


def test_it_requires_a_rationale(dana: User, pair: workflow_data.Pair) -> None:
    response = client_for(dana).post(url(pair), {"target": "stage:Production", "rationale": " "})

    assert response.status_code == 400
    assert response.context["form"].errors["rationale"] == ["This field is required."]
    assert not TransitionRequest.objects.exists()


def test_it_rejects_a_target_that_is_not_offered(dana: User, pair: workflow_data.Pair) -> None:
    response = client_for(dana).post(url(pair), {"target": "alias:yolo", "rationale": "Why not."})

    assert response.status_code == 400
    assert "Select a valid choice" in response.context["form"].errors["target"][0]
    assert not TransitionRequest.objects.exists()


def test_it_refuses_a_second_open_request_for_the_same_target(
    dana: User, pair: workflow_data.Pair
) -> None:
    first = workflow_data.requested(dana, pair.candidate)

    response = client_for(dana).post(
        url(pair), {"target": "stage:Production", "rationale": "Again."}
    )

    assert response.status_code == 409
    assert response.context["form"].non_field_errors() == [
        f"request {first.pk} for Production of credit-scorer is already open"
    ]
    assert TransitionRequest.objects.count() == 1


def test_it_says_when_the_version_already_holds_the_target(
    dana: User, pair: workflow_data.Pair
) -> None:
    response = client_for(dana).post(
        f"/models/versions/{pair.incumbent.pk}/request/",
        {"target": "stage:Production", "rationale": "Keep it."},
    )

    assert response.status_code == 400
    assert "already holds Production" in response.context["form"].non_field_errors()[0]


def test_it_sends_anonymous_visitors_to_the_login_page(
    client: Client, pair: workflow_data.Pair
) -> None:
    response = client.get(url(pair))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["olivia", "erin", "adam"])
def test_it_refuses_other_roles(
    persona: str, request: pytest.FixtureRequest, pair: workflow_data.Pair
) -> None:
    user = request.getfixturevalue(persona)

    response = client_for(user).post(url(pair), {"target": "stage:Production", "rationale": "x"})

    assert response.status_code == 403
    assert not TransitionRequest.objects.exists()
