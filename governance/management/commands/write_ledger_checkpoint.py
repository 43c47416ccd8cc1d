"""Sign the ledger's newest entry into a checkpoint file: ``manage.py write_ledger_checkpoint``."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.checkpoints import CheckpointError, write_checkpoint
from governance.ledger_verify import LedgerIntegrityError


class Command(BaseCommand):
    help = "Verify the entries since the last checkpoint, then sign the newest one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint-dir",
            type=Path,
            help="Directory of signed checkpoints (default: LEDGER_CHECKPOINT_DIR).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checkpoint = write_checkpoint(options["checkpoint_dir"])
        except (LedgerIntegrityError, CheckpointError) as exc:
            raise CommandError(f"no checkpoint written: {exc}", returncode=1) from exc

        if checkpoint is None:
            self.stdout.write("no checkpoint written: the ledger is empty")
        else:
            self.stdout.write(
                f"checkpoint for entry {checkpoint.seq} ({checkpoint.entry_hash[:16]}) "
                f"at {checkpoint.path}"
            )
