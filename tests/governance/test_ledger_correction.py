"""Corrections are new entries pointing at the entry they correct, with a reason."""

import pytest
from django.db import transaction

from governance import ledger
from governance.ledger_verify import verify_ledger
from governance.models import LedgerEntry
from tests.support.personas import OLIVIA, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def _original() -> LedgerEntry:
    with transaction.atomic():
        return ledger.append(
            ledger.EntryDraft(
                action="model.risk_tier_set",
                object_type="registered_model",
                object_id="7",
                precision="recorded",
                model_name="fraud",
                after={"tier": "low"},
                reason="initial assessment",
            )
        )


def test_it_appends_a_correction_pointing_at_the_original() -> None:
    original = _original()
    officer = make_user(OLIVIA)

    correction = ledger.record_correction(
        original,
        actor=officer,
        actor_role="governance_officer",
        reason="the tier was assessed on the wrong model",
        after={"tier": "high"},
    )

    assert (correction.seq, correction.corrects_id) == (2, original.pk)
    assert correction.action == "ledger.correction"
    assert (correction.before, correction.after) == ({"tier": "low"}, {"tier": "high"})
    assert correction.actor_name == "Olivia Pope"
    assert correction.details == {"corrected_seq": 1, "corrected_action": "model.risk_tier_set"}
    assert LedgerEntry.objects.get(seq=1).after == {"tier": "low"}
    assert list(original.corrections.all()) == [correction]
    assert verify_ledger().intact


def test_it_requires_a_reason() -> None:
    original = _original()

    with pytest.raises(ValueError, match="a correction needs a reason"):
        ledger.record_correction(
            original, actor=None, actor_role="governance_officer", reason="  ", after={}
        )
    assert LedgerEntry.objects.count() == 1
