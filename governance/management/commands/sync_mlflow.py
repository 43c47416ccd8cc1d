"""Sync the configured MLflow sources into the mirror, as the scheduled task does."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from governance.sources import ensure_sources
from governance.sync import SyncFailed, sync_source


class Command(BaseCommand):
    help = "Mirror MLflow sources: incremental by default, everything with --full."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", metavar="NAME", help="sync only the source named NAME")
        parser.add_argument(
            "--full",
            action="store_true",
            help="page through everything and record what vanished from MLflow",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources = ensure_sources()
        if not sources:
            raise CommandError("no MLflow source is configured; set MLFLOW_TRACKING_URI")
        name = options["source"]
        if name is not None:
            sources = [s for s in sources if s.name == name]
            if not sources:
                raise CommandError(f"no MLflow source named {name!r} is configured")
        else:
            # An admin can switch a source off; naming it with --source still syncs it.
            for source in sources:
                if not source.enabled:
                    self.stdout.write(f"{source.name}: disabled, not synced")
            sources = [s for s in sources if s.enabled]

        failures: list[str] = []
        for source in sources:
            bar = tqdm(
                desc=f"{source.name} runs",
                unit="run",
                disable=not sys.stdout.isatty(),
                file=sys.stdout,
                leave=False,
            )
            try:
                summary = sync_source(source.pk, full=options["full"], progress=bar.update)
            except SyncFailed as exc:
                failures.append(str(exc))
                self.stderr.write(str(exc))
                continue
            finally:
                bar.close()
            if summary.skipped:
                self.stdout.write(f"{source.name}: skipped, another sync of it is running")
            else:
                self.stdout.write(f"{source.name}: {summary.line()}")
        if failures:
            raise CommandError(f"{len(failures)} of {len(sources)} source(s) failed to sync")
