"""The record_correction management command: an officer corrects a ledger entry."""

import getpass
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from governance import ledger
from governance.ledger_verify import verify_ledger
from governance.models import LedgerEntry
from tests.support.personas import ADAM, DANA, ERIN, OLIVIA, Persona, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fast_password_hasher", "postgres_required"),
]

ROOT = Path(__file__).resolve().parents[2]
WHY = "the tier was assessed on the wrong model"
NO_ONE = ("--by", "ghost", "--reason", WHY, "--set", "tier=high")


def _original() -> LedgerEntry:
    with transaction.atomic():
        return ledger.append(
            ledger.EntryDraft(
                action="model.risk_tier_set",
                object_type="registered_model",
                object_id="7",
                precision="recorded",
                model_name="fraud",
                before={"tier": "medium"},
                after={"tier": "low", "basis": "questionnaire"},
                reason="initial assessment",
            )
        )


def _correct(*args: str) -> str:
    out = StringIO()
    call_command("record_correction", *args, stdout=out)
    return out.getvalue()


def test_an_officer_corrects_an_entry_with_a_new_entry_pointing_at_it() -> None:
    original = _original()
    olivia = make_user(OLIVIA)

    printed = _correct(str(original.seq), "--by", "olivia", "--reason", WHY, "--set", "tier=high")

    assert printed == "recorded entry 2, correcting entry 1\n"
    correction = LedgerEntry.objects.get(seq=2)
    assert correction.corrects_id == original.pk
    assert (correction.action, correction.actor_id, correction.actor_name) == (
        "ledger.correction",
        olivia.pk,
        "Olivia Pope",
    )
    assert (correction.actor_role, correction.reason) == ("governance_officer", WHY)
    assert correction.before == {"tier": "low", "basis": "questionnaire"}
    assert correction.after == {"tier": "high", "basis": "questionnaire"}
    assert (correction.model_name, correction.object_id) == ("fraud", "7")
    assert correction.details == {
        "os_user": getpass.getuser(),
        "corrected_seq": 1,
        "corrected_action": "model.risk_tier_set",
    }
    # The original keeps what it said.
    assert LedgerEntry.objects.get(seq=1).after == {"tier": "low", "basis": "questionnaire"}
    report = verify_ledger()
    assert (report.intact, report.entries) == (True, 2)


def test_it_takes_the_whole_corrected_state_as_json() -> None:
    _original()
    make_user(OLIVIA)

    _correct("1", "--by", "olivia", "--reason", WHY, "--after", '{"tier": "high", "score": 0.9}')

    assert LedgerEntry.objects.get(seq=2).after == {"tier": "high", "score": 0.9}


def test_it_corrects_a_correction() -> None:
    _original()
    make_user(OLIVIA)
    _correct("1", "--by", "olivia", "--reason", WHY, "--set", "tier=hihg")

    printed = _correct("2", "--by", "olivia", "--reason", "typo in entry 2", "--set", "tier=high")

    assert printed == "recorded entry 3, correcting entry 2\n"
    assert LedgerEntry.objects.get(seq=3).corrects == LedgerEntry.objects.get(seq=2)
    assert verify_ledger().intact


@pytest.mark.parametrize(
    ("reason_args", "message"),
    [
        ((), "the following arguments are required: --reason"),
        (("--reason", "  "), "a correction needs a reason: --reason must not be blank"),
    ],
)
def test_it_requires_a_reason(reason_args: tuple[str, ...], message: str) -> None:
    _original()
    make_user(OLIVIA)

    with pytest.raises(CommandError, match=message):
        _correct("1", "--by", "olivia", *reason_args, "--set", "tier=high")
    assert LedgerEntry.objects.count() == 1


def test_it_refuses_an_unknown_entry() -> None:
    _original()
    make_user(OLIVIA)

    with pytest.raises(CommandError, match="no ledger entry has sequence number 99"):
        _correct("99", "--by", "olivia", "--reason", WHY, "--set", "tier=high")
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize("persona", [DANA, ERIN, ADAM])
def test_it_refuses_anyone_but_an_officer_and_records_the_refusal(persona: Persona) -> None:
    _original()
    user = make_user(persona)

    with pytest.raises(
        CommandError, match="refused: only a governance officer can record a correction"
    ):
        _correct("1", "--by", user.username, "--reason", WHY, "--set", "tier=high")

    assert not LedgerEntry.objects.filter(action="ledger.correction").exists()
    refusal = LedgerEntry.objects.get(seq=2)
    assert (refusal.action, refusal.actor_id) == ("security.action_refused", user.pk)
    assert (refusal.object_type, refusal.object_id) == ("ledger_entry", "1")
    assert refusal.details == {"attempted": "ledger.correction"}
    assert verify_ledger().intact


def test_it_refuses_an_unknown_or_inactive_user() -> None:
    _original()
    olivia = make_user(OLIVIA)
    olivia.is_active = False
    olivia.save(update_fields=["is_active"])

    with pytest.raises(CommandError, match="no user named 'ghost'"):
        _correct("1", "--by", "ghost", "--reason", WHY, "--set", "tier=high")
    with pytest.raises(CommandError, match="refused: the account 'olivia' is inactive"):
        _correct("1", "--by", "olivia", "--reason", WHY, "--set", "tier=high")

    assert LedgerEntry.objects.get(seq=2).action == "security.action_refused"
    assert not LedgerEntry.objects.filter(action="ledger.correction").exists()


@pytest.mark.parametrize(
    ("state_args", "message"),
    [
        ((), "one of the arguments --set --after is required"),
        (("--set", "tier"), "expected FIELD=VALUE, got 'tier'"),
        (("--after", "{tier: high}"), "not JSON"),
        (("--set", "a=1", "--after", "{}"), "not allowed with argument"),
        (("--set", "api_token=abc"), r"ledger entries must not carry secrets \(after.api_token\)"),
    ],
)
def test_it_refuses_a_malformed_corrected_state(state_args: tuple[str, ...], message: str) -> None:
    _original()
    make_user(OLIVIA)

    with pytest.raises(CommandError, match=message):
        _correct("1", "--by", "olivia", "--reason", WHY, *state_args)
    assert LedgerEntry.objects.count() == 1


def test_set_needs_an_entry_whose_after_state_is_an_object() -> None:
    with transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action="role.granted", object_type="user", precision="recorded", after=["x"]
            )
        )
    make_user(OLIVIA)

    with pytest.raises(CommandError, match="entry 1 recorded an after-state that is not an"):
        _correct("1", "--by", "olivia", "--reason", WHY, "--set", "role=y")
    _correct("1", "--by", "olivia", "--reason", WHY, "--after", '["executive"]')
    assert LedgerEntry.objects.get(seq=2).after == ["executive"]


def test_a_refusal_exits_non_zero_from_the_command_line() -> None:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}

    result = subprocess.run(
        [sys.executable, "manage.py", "record_correction", "1", *NO_ONE],
        cwd=ROOT,
        env={**env, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "CommandError: no user named 'ghost'" in result.stderr
