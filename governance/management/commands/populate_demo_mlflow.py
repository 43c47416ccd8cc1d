"""Fill an MLflow server with the demo's experiments, runs and registered models."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

PHASE_CHOICES = ("initial", "later", "all")


class Command(BaseCommand):
    help = (
        "Train small scikit-learn models and log them to MLflow with datasets, "
        "signatures, nested and failed runs, registered versions, stages and aliases. "
        "Each phase runs once; a second call skips it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tracking-uri",
            default=settings.MLFLOW_SOURCES.get("default", ""),
            help="the MLflow server to fill (default: MLFLOW_TRACKING_URI)",
        )
        parser.add_argument(
            "--phase",
            choices=PHASE_CHOICES,
            default="all",
            help="initial: first versions, stages and aliases; later: newer versions "
            "and moves; all: both (sync in between to see the moves as events)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here: only the demo needs MLflow's server extras and scikit-learn.
        from governance.demo.populate import PHASES, PhaseOrderError, populate

        uri = options["tracking_uri"]
        if not uri:
            raise CommandError("no MLflow server given; set MLFLOW_TRACKING_URI or --tracking-uri")
        phases = PHASES if options["phase"] == "all" else (options["phase"],)
        for phase in phases:
            try:
                summary = populate(uri, phase, production_tag=settings.PRODUCTION_DATA_TAG)
            except PhaseOrderError as exc:
                raise CommandError(str(exc)) from exc
            if summary.skipped:
                self.stdout.write(f"phase {phase}: already present, skipped")
                continue
            self.stdout.write(
                f"phase {phase}: {summary.experiments} experiments, {summary.runs} runs, "
                f"{summary.versions} model versions, {summary.registry_changes} registry "
                f"changes in {summary.seconds:.1f} s"
            )
