"""Verify the audit ledger: ``manage.py verify_ledger``; exit 0 only when intact."""

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.ledger_verify import verify_ledger


class Command(BaseCommand):
    help = (
        "Check the ledger's sequence, links, hashes, columns and signed checkpoints; "
        "exit non-zero naming the first bad entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint-dir",
            type=Path,
            help="Directory of signed checkpoints (default: LEDGER_CHECKPOINT_DIR).",
        )
        parser.add_argument("--chunk-size", type=int, default=5000)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = verify_ledger(
                checkpoint_dir=options["checkpoint_dir"],
                chunk_size=options["chunk_size"],
            )
        except ImproperlyConfigured as exc:
            raise CommandError(f"ledger verification impossible: {exc}", returncode=2) from exc
        if report.problem is not None:
            raise CommandError(f"ledger verification failed: {report.problem}", returncode=1)

        if report.checkpoints == 0 and report.entries:
            self.stderr.write(
                "warning: no signed checkpoints were found, so a rewritten or truncated "
                "tail could not be detected"
            )
        rate = report.entries / report.elapsed_seconds if report.elapsed_seconds else 0.0
        self.stdout.write(
            f"ledger intact: {report.entries} entries, head {report.last_seq} "
            f"({report.last_hash[:16]}), {report.checkpoints} signed checkpoints, "
            f"{rate:,.0f} entries/s"
        )
