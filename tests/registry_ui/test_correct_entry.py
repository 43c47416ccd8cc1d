"""Correcting a ledger entry from a page: a new entry pointing at it, by officers only."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from governance.ledger_verify import verify_ledger
from governance.models import LedgerEntry
from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db

WHY = "The model was high risk: two approvals were required."
CORRECTED = '{"approvals": 1, "required": 2, "status": "pending"}'


@pytest.fixture
def pair(dana: User, olivia: User) -> workflow_data.Pair:
    return workflow_data.custody_history(dana, olivia)


@pytest.fixture
def approval(pair: workflow_data.Pair) -> LedgerEntry:
    return LedgerEntry.objects.get(action="decision.approved")


def url(entry: LedgerEntry) -> str:
    return f"/ledger/{entry.seq}/correct/"


def _columns(entry: LedgerEntry) -> tuple[object, ...]:
    entry.refresh_from_db()
    return (entry.entry_hash, entry.canonical, entry.after, entry.reason, entry.recorded_at)


def test_an_officer_corrects_an_entry_with_a_new_entry_pointing_at_it(
    olivia: User, approval: LedgerEntry
) -> None:
    untouched = _columns(approval)
    client = client_for(olivia)

    response = client.post(
        url(approval),
        {"after": CORRECTED, "reason": WHY},
        HTTP_X_REQUEST_ID="corr-1",
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 302
    assert response["Location"] == url(approval)
    correction = LedgerEntry.objects.get(action="ledger.correction")
    assert correction.corrects_id == approval.pk
    assert correction.seq > approval.seq
    assert (correction.actor_id, correction.actor_name, correction.actor_role) == (
        olivia.pk,
        "Olivia Pope",
        "governance_officer",
    )
    assert correction.reason == WHY
    assert correction.before == approval.after
    assert correction.after == {"approvals": 1, "required": 2, "status": "pending"}
    assert (correction.request_id, correction.client_address) == ("corr-1", "203.0.113.9")
    assert _columns(approval) == untouched
    assert verify_ledger().intact

    page = client.get(url(approval))
    body = page.content.decode()
    assert f"Entry {correction.seq} records the correction of entry {approval.seq}." in body
    assert [row.entry.seq for row in page.context["corrections"]] == [correction.seq]


def test_the_page_shows_the_entry_and_its_after_state_as_json(
    olivia: User, approval: LedgerEntry, pair: workflow_data.Pair
) -> None:
    response = client_for(olivia).get(url(approval))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Approved (signed)" in body
    assert f'href="/models/{pair.model.pk}/timeline/#entry-{approval.seq}"' in body
    assert response.context["form"]["after"].value() == response.context["after_json"]
    assert '"status": "approved"' in response.context["after_json"]


def test_the_timeline_offers_correction_to_officers_only(
    olivia: User, reader: Client, pair: workflow_data.Pair, approval: LedgerEntry
) -> None:
    timeline = f"/models/{pair.model.pk}/timeline/"
    link = f'href="{url(approval)}"'

    assert link in client_for(olivia).get(timeline).content.decode()
    assert link not in reader.get(timeline).content.decode()


@pytest.mark.parametrize(
    ("after", "reason", "field"),
    [
        ("{not json", WHY, "after"),
        ('{"score": NaN}', WHY, "after"),
        ("", WHY, "after"),
        ('{"tier": "high"}', "", "reason"),
        ("x" * 20_001, WHY, "after"),
    ],
    ids=["malformed", "nan", "empty", "no-reason", "too-long"],
)
def test_bad_input_is_refused_and_records_nothing(
    olivia: User, approval: LedgerEntry, after: str, reason: str, field: str
) -> None:
    count = LedgerEntry.objects.count()

    response = client_for(olivia).post(url(approval), {"after": after, "reason": reason})

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert LedgerEntry.objects.count() == count


def test_a_secret_in_the_after_state_is_refused(olivia: User, approval: LedgerEntry) -> None:
    count = LedgerEntry.objects.count()

    response = client_for(olivia).post(
        url(approval), {"after": '{"password": "hunter2"}', "reason": WHY}
    )

    assert response.status_code == 400
    assert "must not carry secrets" in str(response.context["form"].non_field_errors())
    assert LedgerEntry.objects.count() == count


@pytest.mark.parametrize("persona", ["dana", "erin", "adam"])
def test_other_roles_may_not_correct_and_a_try_is_recorded(
    request: pytest.FixtureRequest, persona: str, approval: LedgerEntry
) -> None:
    user: User = request.getfixturevalue(persona)
    client = client_for(user)

    assert client.get(url(approval)).status_code == 403
    response = client.post(url(approval), {"after": "{}", "reason": WHY})

    assert response.status_code == 403
    assert not LedgerEntry.objects.filter(action="ledger.correction").exists()
    refusal = LedgerEntry.objects.get(action="security.action_refused")
    assert (refusal.actor_id, refusal.object_type, refusal.object_id) == (
        user.pk,
        "ledger_entry",
        str(approval.seq),
    )
    assert refusal.details == {"attempted": "ledger.correction"}


def test_it_needs_the_csrf_token(olivia: User, approval: LedgerEntry) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)

    response = client.post(url(approval), {"after": "{}", "reason": WHY})

    assert response.status_code == 403
    assert not LedgerEntry.objects.filter(action="ledger.correction").exists()


def test_an_unknown_entry_is_not_found(olivia: User, approval: LedgerEntry) -> None:
    assert client_for(olivia).get(f"/ledger/{approval.seq + 1000}/correct/").status_code == 404


def test_it_sends_anonymous_visitors_to_the_login_page(
    client: Client, approval: LedgerEntry
) -> None:
    response = client.post(url(approval), {"after": "{}", "reason": WHY})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not LedgerEntry.objects.filter(action="ledger.correction").exists()


def test_a_user_without_a_role_is_refused(nobody: User, approval: LedgerEntry) -> None:
    assert client_for(nobody).get(url(approval)).status_code == 403
