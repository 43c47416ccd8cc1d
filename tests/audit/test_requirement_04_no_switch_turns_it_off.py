"""Requirement 4: no setting or environment variable switches the ledger off."""

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from pytest_django import Settings

from governance import workflow
from governance.models import LedgerEntry
from tests.support.mirror_rows import make_source, make_version
from tests.support.personas import DANA, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

# Names an operator might reach for, whether or not the project defines them.
GUESSED_SWITCHES = (
    "LEDGER_ENABLED",
    "LEDGER_DISABLED",
    "AUDIT_ENABLED",
    "AUDIT_DISABLED",
    "AUDIT_LOG_ENABLED",
    "AUDIT_TRAIL",
    "GOVERNANCE_LEDGER",
)
_WORDS = re.compile(r"LEDGER|AUDIT|TRAIL|CHECKPOINT")


def _switch_names() -> list[str]:
    defined = [name for name in dir(django_settings) if _WORDS.search(name)]
    return sorted(set(defined) | set(GUESSED_SWITCHES))


@pytest.mark.parametrize("value", [False, None, "", 0, "off"], ids=repr)
def test_turning_every_ledger_setting_off_still_records_the_change(
    settings: Settings, value: Any
) -> None:
    names = _switch_names()
    for name in names:
        setattr(settings, name, value)
    dana: User = make_user(DANA)
    version = make_version(make_source(), "req04-scorer", 1, run_author="derek")

    request = workflow.request_transition(dana, version, "stage", "Staging", "shadow run")

    assert {"LEDGER_CHECKPOINT_DIR", "LEDGER_SIGNING_KEY"} <= set(names)
    entry = LedgerEntry.objects.get(action="request.created")
    assert entry.object_id == str(request.pk)
    assert entry.actor_username == "dana"


def test_the_settings_read_no_switch_for_the_ledger() -> None:
    import governance.settings

    source = Path(governance.settings.__file__).read_text(encoding="utf-8")
    booleans = re.findall(r"env_bool\(\s*\"([A-Z0-9_]+)\"", source)

    assert booleans, "the settings read their booleans through env_bool"
    assert [name for name in booleans if _WORDS.search(name)] == []


def test_the_ledger_module_consults_neither_settings_nor_the_environment() -> None:
    import governance.ledger

    source = Path(governance.ledger.__file__).read_text(encoding="utf-8")

    assert "django.conf" not in source
    assert "os.environ" not in source and "getenv" not in source
