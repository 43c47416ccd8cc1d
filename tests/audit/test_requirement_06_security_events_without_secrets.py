"""Requirement 6: security events are recorded, and no entry carries a secret."""

import time
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from governance import ledger, roles, workflow
from governance.api.tokens import create_api_token, revoke_api_token
from governance.ledger_verify import verify_ledger
from governance.models import (
    ApiToken,
    Decision,
    LedgerEntry,
    MlflowSource,
    ModelVersion,
    TransitionRequest,
)
from governance.webhook_signatures import sign
from tests.support.mirror_rows import make_source, make_version
from tests.support.personas import ADAM, DANA, ERIN, OLIVIA, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

WEBHOOK_SECRET = "whsec-req06-4c1e8b2f9d"
WRONG_PASSWORD = "req06 tr0ub4dor wrong password"
GUESSED_TOKEN = "mlg_req06GuessedTokenValue0123456789abcdef"


def _api(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def _webhook(secret: str, stamp: int) -> tuple[str, int]:
    body = b'{"entity": "model_version", "action": "created", "data": {"name": "req06"}}'
    delivery_id = str(uuid.uuid4())
    signature = sign(secret, delivery_id, str(stamp), body)
    response = Client().post(
        "/hooks/mlflow/req06-hooked/",
        data=body,
        content_type="application/json",
        headers={
            "X-MLflow-Delivery-Id": delivery_id,
            "X-MLflow-Timestamp": str(stamp),
            "X-MLflow-Signature": signature,
        },
    )
    return signature.partition(",")[2], response.status_code


@pytest.fixture
def version() -> ModelVersion:
    return make_version(make_source(), "req06-scorer", 2, run_author="derek")


def test_a_full_workflow_records_security_events_and_no_secret(
    version: ModelVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_WEBHOOK_SECRET_REQ06_HOOKED", WEBHOOK_SECRET)
    MlflowSource.objects.create(name="req06-hooked", tracking_uri="http://127.0.0.1:9")
    dana, olivia, erin, adam = (make_user(p) for p in (DANA, OLIVIA, ERIN, ADAM))
    dana_token = create_api_token(dana, "pipeline", by=dana)
    olivia_token = create_api_token(olivia, "laptop", by=olivia)

    # A request, a wrong password at signing, then the signed approval.
    asked = _api(dana_token.secret).post(
        "/api/v1/requests/",
        {
            "model_version": version.pk,
            "target_kind": "stage",
            "target": "Production",
            "rationale": "Beats the incumbent.",
        },
        format="json",
    )
    request_url = f"/api/v1/requests/{asked.json()['id']}/approve/"
    officer = _api(olivia_token.secret)
    wrong = officer.post(
        request_url, {"rationale": "ok", "password": WRONG_PASSWORD}, format="json"
    )
    right = officer.post(request_url, {"rationale": "ok", "password": PASSWORD}, format="json")
    # A failed login, a guessed token, a role change and a revoked token.
    Client().post("/accounts/login/", {"username": "olivia", "password": WRONG_PASSWORD})
    guessed = _api(GUESSED_TOKEN).get("/api/v1/requests/")
    roles.grant_role(erin, "data_scientist", by=adam, reason="covers for Dana")
    revoke_api_token(ApiToken.objects.get(name="pipeline"), by=dana)
    # A forged webhook, and a genuine signature replayed too late.
    forged_signature, forged = _webhook("not-the-secret", int(time.time()))
    stale_signature, stale = _webhook(WEBHOOK_SECRET, int(time.time()) - 86_400)

    assert (asked.status_code, wrong.status_code, right.status_code) == (201, 403, 200)
    assert (guessed.status_code, forged, stale) == (401, 401, 401)
    actions = list(LedgerEntry.objects.values_list("action", flat=True))
    for expected in (
        "security.login_failed",
        "security.action_refused",
        "security.api_token_refused",
        "security.webhook_rejected",
        "role.granted",
        "api_token.created",
        "api_token.revoked",
        "decision.approved",
    ):
        assert expected in actions
    secrets = {
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "dana's token": dana_token.secret,
        "olivia's token": olivia_token.secret,
        "guessed token": GUESSED_TOKEN,
        "webhook secret": WEBHOOK_SECRET,
        "forged signature": forged_signature,
        "genuine signature": stale_signature,
    }
    for entry in LedgerEntry.objects.all():
        stored = " ".join(
            [entry.canonical, str(entry.before), str(entry.after), str(entry.details)]
        )
        stored += " " + entry.reason
        for name, secret in secrets.items():
            assert secret not in stored, f"entry {entry.seq} ({entry.action}) holds the {name}"


def test_the_ledger_refuses_an_entry_naming_a_secret_field() -> None:
    draft = ledger.EntryDraft(
        action="test.secret",
        object_type="user",
        precision="recorded",
        details={"config": {"webhook_secret": "whsec-x"}},
    )

    refused = r"must not carry secrets \(details\.config\.webhook_secret\)"
    with pytest.raises(ValueError, match=refused), transaction.atomic():
        ledger.append(draft)

    assert not LedgerEntry.objects.filter(action="test.secret").exists()


def test_a_role_change_names_who_made_it_and_the_roles_before_and_after() -> None:
    adam, erin = make_user(ADAM), make_user(ERIN)

    roles.revoke_role(erin, "executive", by=adam, reason="left the board")

    entry = LedgerEntry.objects.get(action="role.revoked")
    assert (entry.actor_username, entry.actor_role, entry.object_id) == (
        "adam",
        "admin",
        str(erin.pk),
    )
    assert (entry.before, entry.after, entry.reason) == (["executive"], [], "left the board")
    assert User.objects.get(pk=erin.pk).groups.count() == 0


def test_a_token_pasted_into_free_text_is_cut_out_of_the_entry() -> None:
    dana = make_user(DANA)
    secret = create_api_token(dana, "pipeline", by=dana).secret
    pasted = f"see run log: Authorization: Token {secret}."
    # Text that came from MLflow (a description, a tag) reaches the ledger unchecked.
    with transaction.atomic():
        entry = ledger.append(
            ledger.EntryDraft(
                action="mlflow.description_changed",
                object_type="model_version",
                precision="observed",
                reason=pasted,
                before={"description": "v1"},
                after={"description": pasted, "tags": [pasted]},
                details={secret: "a key that is a token", "nested": {"x": pasted}},
            )
        )

    entry.refresh_from_db()
    redacted = f"see run log: Authorization: Token {ledger.TOKEN_REDACTED}."
    assert entry.reason == redacted
    assert entry.after == {"description": redacted, "tags": [redacted]}
    assert entry.details == {
        ledger.TOKEN_REDACTED: "a key that is a token",
        "nested": {"x": redacted},
    }
    assert secret not in entry.canonical
    assert verify_ledger().intact


def test_a_token_typed_into_a_rationale_is_refused_before_anything_is_recorded(
    version: ModelVersion,
) -> None:
    dana = make_user(DANA)
    secret = create_api_token(dana, "pipeline", by=dana).secret
    before = LedgerEntry.objects.count()

    with pytest.raises(workflow.InvalidRequest, match="looks like an API token"):
        workflow.request_transition(dana, version, "stage", "Production", f"ok {secret}")

    assert LedgerEntry.objects.count() == before
    assert not TransitionRequest.objects.exists()


def test_a_password_typed_into_the_rationale_signs_nothing(version: ModelVersion) -> None:
    dana, olivia = make_user(DANA), make_user(OLIVIA)
    asked = workflow.request_transition(dana, version, "stage", "Production", "Beats v1.")
    before = LedgerEntry.objects.count()

    with pytest.raises(workflow.InvalidRequest, match="holds your password"):
        workflow.decide(olivia, asked.pk, "approved", f"checked {PASSWORD}", PASSWORD)

    assert LedgerEntry.objects.count() == before
    assert not Decision.objects.exists()
    assert not any(PASSWORD in entry.canonical for entry in LedgerEntry.objects.all())
    # Someone else's password, or a wrong one, in the text is only text.
    signed = workflow.decide(olivia, asked.pk, "approved", f"not {WRONG_PASSWORD}", PASSWORD)
    assert signed.meaning == "approved"
