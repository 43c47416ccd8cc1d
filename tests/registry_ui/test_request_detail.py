"""The decision page: frozen evidence, signing with the password, and the apply status."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from governance.models import ApplyOutbox, Decision, LedgerEntry, TransitionRequest
from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for
from tests.support import personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair() -> workflow_data.Pair:
    return workflow_data.pair()


@pytest.fixture
def pending(dana: User, pair: workflow_data.Pair) -> TransitionRequest:
    return workflow_data.requested(dana, pair.candidate)


def url(transition: TransitionRequest) -> str:
    return f"/requests/{transition.pk}/"


def sign(client: Client, transition: TransitionRequest, **fields: str) -> Any:
    data = {"meaning": "approved", "rationale": "Evidence reviewed.", "password": personas.PASSWORD}
    data.update(fields)
    return client.post(url(transition), data)


def test_it_shows_candidate_against_incumbent(olivia: User, pending: TransitionRequest) -> None:
    response = client_for(olivia).get(url(pending))

    assert response.status_code == 200
    comparison = response.context["comparison"]
    assert comparison.hash_intact
    assert [(r.key, r.candidate, r.incumbent) for r in comparison.metrics] == [
        ("auc", "0.87", "0.81"),
        ("recall", "0.75", "0.7"),
    ]
    assert [(r.key, r.differs) for r in comparison.params] == [("alpha", False), ("depth", True)]
    changes = {(r.part, r.name): r.status for r in comparison.signature}
    assert changes == {
        ("input", "income"): "same",
        ("input", "<b>region</b>"): "added",
        ("output", "(column 1)"): "changed",
    }
    body = response.content.decode()
    assert "d1g3st-new" in body and "d1g3st-old" in body
    assert "&lt;b&gt;region&lt;/b&gt;" in body and "<b>region" not in body
    assert "AUC up from 0.81" in body
    figure = json.loads(
        body.split('id="evidence-metrics-figure" type="application/json">')[1].split("</script>")[0]
    )
    assert [trace["name"] for trace in figure["data"]] == [
        "Candidate: version 2",
        "Incumbent: version 1",
    ]
    assert figure["data"][0]["y"] == [0.87, 0.75]
    assert 'name="password"' in body and 'autocomplete="current-password"' in body


def test_an_approval_is_signed_and_waits_for_mlflow(
    olivia: User, pending: TransitionRequest
) -> None:
    response = sign(client_for(olivia), pending)

    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.officer, decision.meaning, decision.signer_name) == (
        olivia,
        "approved",
        "Olivia Pope",
    )
    assert ApplyOutbox.objects.get().request == pending
    page = client_for(olivia).get(url(pending))
    body = page.content.decode()
    assert "Approved</strong> by <strong>Olivia Pope</strong>" in body
    assert decision.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC") in body
    assert "Meaning: “approved”" in body
    assert "Not yet" in body
    assert page.context["form"] is None


def test_a_rejection_is_signed_with_its_meaning(olivia: User, pending: TransitionRequest) -> None:
    sign(client_for(olivia), pending, meaning="rejected", rationale="Recall too low.")

    pending.refresh_from_db()
    assert pending.status == "rejected"
    assert Decision.objects.get().meaning == "rejected"
    assert not ApplyOutbox.objects.exists()


def test_it_shows_whether_mlflow_applied_it(olivia: User, pending: TransitionRequest) -> None:
    sign(client_for(olivia), pending)
    applied_at = timezone.now()
    ApplyOutbox.objects.update(status="done", completed_at=applied_at)
    TransitionRequest.objects.filter(pk=pending.pk).update(status="applied", applied_at=applied_at)

    body = client_for(olivia).get(url(pending)).content.decode()

    assert "Yes</span> at " + applied_at.strftime("%Y-%m-%d %H:%M:%S") in body


def test_it_shows_why_applying_failed(olivia: User, pending: TransitionRequest) -> None:
    sign(client_for(olivia), pending)
    ApplyOutbox.objects.update(status="failed", last_error="RESOURCE_DOES_NOT_EXIST")
    TransitionRequest.objects.filter(pk=pending.pk).update(
        status="failed", failure_reason="MLflow no longer has version 2"
    )

    body = client_for(olivia).get(url(pending)).content.decode()

    assert "No: it failed" in body
    assert "MLflow no longer has version 2" in body


def test_it_refuses_a_wrong_password_and_signs_nothing(
    olivia: User, pending: TransitionRequest
) -> None:
    response = sign(client_for(olivia), pending, password="not it")

    assert response.status_code == 400
    assert response.context["form"].errors["password"] == [
        "the password did not match; the decision was not signed"
    ]
    assert not Decision.objects.exists()
    refused = LedgerEntry.objects.get(action="security.action_refused")
    assert refused.details == {"attempted": "decision.approved"}


def test_a_password_typed_into_the_rationale_is_refused_and_not_sent_back(
    olivia: User, pending: TransitionRequest
) -> None:
    response = sign(client_for(olivia), pending, rationale=f"ok {personas.PASSWORD} ok")

    assert response.status_code == 400
    assert "the rationale holds your password" in str(response.context["form"].non_field_errors())
    assert personas.PASSWORD not in response.content.decode()
    assert not Decision.objects.exists()


def test_once_locked_the_right_password_gets_the_same_answer_as_a_wrong_one(
    olivia: User, pending: TransitionRequest, settings: Any
) -> None:
    settings.SIGNING_MAX_FAILURES = 2
    client = client_for(olivia)
    for _ in range(2):
        assert sign(client, pending, password="not it").status_code == 400

    right = sign(client, pending)
    wrong = sign(client, pending, password="not it either")

    # The same status and message either way: the lock must not become a way to
    # test passwords.
    assert right.status_code == wrong.status_code == 400
    for response in (right, wrong):
        [message] = response.context["form"].errors["password"]
        assert message.startswith("too many wrong passwords: signing is locked until")
    assert not Decision.objects.exists()


def test_it_requires_a_rationale(olivia: User, pending: TransitionRequest) -> None:
    response = sign(client_for(olivia), pending, rationale="")

    assert response.status_code == 400
    assert response.context["form"].errors["rationale"] == ["This field is required."]
    assert not Decision.objects.exists()


def test_it_refuses_self_approval_with_a_clear_message(pair: workflow_data.Pair) -> None:
    both = personas.make_user(personas.OSCAR)
    both.groups.add(Group.objects.get(name="data_scientist"))
    own = workflow_data.requested(both, pair.candidate)

    page = client_for(both).get(url(own))
    response = sign(client_for(both), own)

    assert page.context["form"] is None
    assert page.context["decide_refusal"] == "the requester cannot decide their own request"
    assert response.status_code == 403
    assert "The requester cannot decide their own request. Nothing was signed." in (
        response.content.decode()
    )
    assert not Decision.objects.exists()


def test_it_refuses_the_run_author_promoting_to_production(
    dana: User, pair: workflow_data.Pair
) -> None:
    author = personas.make_user(personas.DEREK)
    author.groups.set([Group.objects.get(name="governance_officer")])
    transition = workflow_data.requested(dana, pair.candidate)

    response = sign(client_for(author), transition)

    assert response.status_code == 403
    assert response.context["refusal"] == (
        "the author of the training run cannot approve its promotion to Production"
    )
    assert not Decision.objects.exists()


def test_a_second_decision_gets_a_conflict(olivia: User, pending: TransitionRequest) -> None:
    oscar = personas.make_user(personas.OSCAR)
    sign(client_for(olivia), pending, meaning="rejected")

    response = sign(client_for(oscar), pending)

    assert response.status_code == 409
    assert response.context["refusal"] == (
        f"request {pending.pk} is already rejected; nothing was signed"
    )
    assert Decision.objects.count() == 1


def test_an_executive_reads_but_cannot_sign(erin: User, pending: TransitionRequest) -> None:
    page = client_for(erin).get(url(pending))
    response = sign(client_for(erin), pending)

    assert page.status_code == 200
    assert page.context["form"] is None
    assert 'name="password"' not in page.content.decode()
    assert response.status_code == 403
    assert not Decision.objects.exists()
    refused = LedgerEntry.objects.get(action="security.action_refused")
    assert refused.reason == "only a governance officer can decide a request"


def test_an_admin_cannot_sign(adam: User, pending: TransitionRequest) -> None:
    response = sign(client_for(adam), pending)

    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_it_sends_anonymous_visitors_to_the_login_page(
    client: Client, pending: TransitionRequest
) -> None:
    response = client.get(url(pending))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_answers_404_for_an_unknown_request(olivia: User) -> None:
    assert client_for(olivia).get("/requests/999999/").status_code == 404


def test_it_refuses_a_post_without_the_csrf_token(olivia: User, pending: TransitionRequest) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)

    response = sign(client, pending)

    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_a_high_risk_model_waits_for_a_second_distinct_officer(
    dana: User, olivia: User, pair: workflow_data.Pair
) -> None:
    pair.model.risk_tier = "high"
    pair.model.save(update_fields=["risk_tier"])
    transition = workflow_data.requested(dana, pair.candidate)
    oscar = personas.make_user(personas.OSCAR)

    sign(client_for(olivia), transition)
    again = client_for(olivia).get(url(transition))
    sign(client_for(oscar), transition)

    assert again.context["form"] is None
    assert again.context["decide_refusal"] == (
        f"you have already signed request {transition.pk}; an officer counts once"
    )
    transition.refresh_from_db()
    assert transition.status == "approved"
    assert [d.signer_name for d in Decision.objects.order_by("signed_at")] == [
        "Olivia Pope",
        "Oscar Martinez",
    ]


def test_the_requester_sees_the_cancel_form_while_pending(
    dana: User, pending: TransitionRequest
) -> None:
    body = client_for(dana).get(url(pending)).content.decode()

    assert f'action="/requests/{pending.pk}/cancel/"' in body
    assert 'name="password"' not in body
