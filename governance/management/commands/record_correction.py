"""Correct a ledger entry: ``manage.py record_correction SEQ --by OFFICER --reason WHY``."""

import argparse
import getpass
import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance import ledger
from governance.management.users import user_named
from governance.models import LedgerEntry
from governance.permissions import can_record_correction, refuse


def _field(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    return name.strip(), value


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc}): {text!r}") from exc


class Command(BaseCommand):
    help = (
        "Append a correction of ledger entry SEQ: a new entry pointing at it, stating what "
        "was right and why. The original entry stays as it was. Governance officers only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("seq", type=int, help="sequence number of the entry to correct")
        parser.add_argument(
            "--by",
            required=True,
            metavar="OFFICER_USERNAME",
            help="the governance officer answering for the correction",
        )
        parser.add_argument("--reason", required=True, help="why the entry was wrong")
        state = parser.add_mutually_exclusive_group(required=True)
        state.add_argument(
            "--set",
            type=_field,
            action="append",
            metavar="FIELD=VALUE",
            help="a field of the entry's after-state as it should have been, as text; "
            "repeat for several; the other fields are carried over",
        )
        state.add_argument(
            "--after",
            type=_json,
            metavar="JSON",
            help='the whole after-state as it should have been, e.g. \'{"tier": "high"}\'',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reason: str = options["reason"]
        if not reason.strip():
            raise CommandError("a correction needs a reason: --reason must not be blank")
        officer = user_named(options["by"])
        seq: int = options["seq"]

        # Checked before the entry is looked up, so every attempt by someone who may
        # not correct is recorded, whether or not the entry exists.
        verdict = can_record_correction(officer)
        if not verdict.allowed:
            try:
                refuse(
                    officer,
                    "ledger.correction",
                    verdict,
                    object_type="ledger_entry",
                    object_id=str(seq),
                )
            except PermissionDenied as exc:
                raise CommandError(f"refused: {exc}") from exc

        original = LedgerEntry.objects.filter(seq=seq).first()
        if original is None:
            raise CommandError(f"no ledger entry has sequence number {seq}")
        after = self._after(original, options)
        try:
            entry = ledger.record_correction(
                original,
                actor=officer,
                actor_role=verdict.role,
                reason=reason,
                after=after,
                # A command has no request id or client address; the account that ran it
                # is the nearest thing to "where".
                details={"os_user": getpass.getuser()},
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"recorded entry {entry.seq}, correcting entry {original.seq}")

    @staticmethod
    def _after(original: LedgerEntry, options: dict[str, Any]) -> Any:
        if options["set"] is None:
            return options["after"]
        if original.after is None:
            corrected: dict[str, Any] = {}
        elif isinstance(original.after, dict):
            corrected = dict(original.after)
        else:
            raise CommandError(
                f"entry {original.seq} recorded an after-state that is not an object; "
                "give the whole corrected state with --after"
            )
        corrected.update(options["set"])
        return corrected
