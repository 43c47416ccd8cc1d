"""Start a local MLflow server with demo work, mirror it, create demo users, serve."""

import contextlib
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections

from governance.demo.server import DemoMlflowServer, DemoServerError, start_server
from governance.demo.story import play_story
from governance.demo.users import ensure_demo_users
from governance.models import (
    Experiment,
    LedgerEntry,
    MlflowSource,
    ModelVersion,
    RegisteredModel,
    Run,
)
from governance.sources import ensure_sources
from governance.sync import SyncFailed, sync_source
from governance.webhook_signatures import secret_variable

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Start an MLflow server on loopback (SQLite, kept in var/demo-mlflow), fill it "
        "with demo work once, sync it, create one demo user per role and serve the "
        "dashboard. For local demonstration only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="dashboard port")
        parser.add_argument(
            "--mlflow-port",
            type=int,
            default=5055,
            help="preferred MLflow port; a free one is used when it is taken",
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=settings.BASE_DIR / "var" / "demo-mlflow",
            help="where the MLflow server keeps its SQLite store and artifacts",
        )
        parser.add_argument(
            "--tracking-uri",
            help="use this running MLflow server instead of starting one",
        )
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="prepare everything, then exit instead of serving the dashboard",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("run_demo is for local demonstrations; unset PRODUCTION")
        # MLflow draws a progress bar per artifact download; the demo prints its own lines.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

        server: DemoMlflowServer | None = None
        if options["tracking_uri"]:
            uri = options["tracking_uri"]
        else:
            with _quiet_logs():
                server = self._start_mlflow(options["data_dir"], options["mlflow_port"])
            uri = server.uri
        try:
            with _quiet_logs():
                source = self._prepare(uri)
            if not options["no_serve"]:
                if server is not None:
                    self._connect_webhook(server, options["port"])
                self._serve(options["port"], source)
        finally:
            if server is not None:
                server.stop()
                self._say("MLflow server stopped")

    def _say(self, message: str) -> None:
        self.stdout.write(f"[demo] {message}")

    def _start_mlflow(self, data_dir: Path, port: int) -> DemoMlflowServer:
        self._say(f"starting MLflow server (store in {data_dir}) ...")
        started = time.monotonic()
        try:
            server = start_server(data_dir.resolve(), port)
        except DemoServerError as exc:
            raise CommandError(str(exc)) from exc
        self._say(f"MLflow server up at {server.uri} ({time.monotonic() - started:.1f} s)")
        return server

    def _prepare(self, uri: str) -> MlflowSource:
        # Settings were read before the server's port was known; point the
        # "default" source at it (a new dict, so test overrides can undo it).
        settings.MLFLOW_SOURCES = {**settings.MLFLOW_SOURCES, "default": uri}
        if connection.vendor == "sqlite":
            Path(str(connection.settings_dict["NAME"])).parent.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        self._say(f"database ready ({connection.vendor})")

        source = next(s for s in ensure_sources() if s.name == "default")
        self._populate_and_sync(source, uri)

        for user in ensure_demo_users():
            self._say(f"user {user.username:<7} password {user.password:<24} role {user.role}")
        story = play_story(source)
        if story is not None:
            self._say(
                f"governance activity: {story.steps} steps recorded as the demo users"
                + (f", {len(story.skipped)} skipped (see the log)" if story.skipped else "")
            )
            # The approved change has been applied to MLflow; mirror it.
            self._sync(source)
        self._say(
            f"mirror: {Experiment.objects.filter(source=source).count()} experiments, "
            f"{Run.objects.filter(source=source).count()} runs, "
            f"{RegisteredModel.objects.filter(source=source).count()} registered models, "
            f"{ModelVersion.objects.filter(registered_model__source=source).count()} versions, "
            f"{LedgerEntry.objects.count()} ledger entries"
        )
        return source

    def _populate_and_sync(self, source: MlflowSource, uri: str) -> None:
        # Imported here: only the demo needs MLflow's server extras and scikit-learn.
        from governance.demo.populate import PHASES, is_populated, populate

        pending = [phase for phase in PHASES if not is_populated(uri, phase)]
        if not pending:
            self._say("MLflow already holds the demo work")
        # Mirror what is there first, so each phase written now is observed on its own.
        self._sync(source)
        for phase in pending:
            self._say(f"writing demo work to MLflow, phase {phase} ...")
            summary = populate(uri, phase, production_tag=settings.PRODUCTION_DATA_TAG)
            self._say(
                f"phase {phase}: {summary.experiments} experiments, {summary.runs} runs, "
                f"{summary.versions} model versions, {summary.registry_changes} registry "
                f"changes ({summary.seconds:.1f} s)"
            )
            # A sync after each phase, so the mirror observes the registry moving.
            self._sync(source)

    def _sync(self, source: MlflowSource) -> None:
        try:
            summary = sync_source(source.pk, full=True)
        except SyncFailed as exc:
            raise CommandError(f"sync of {source.name} failed: {exc}") from exc
        self._say(f"synced {source.name}: {summary.line()}")

    def _connect_webhook(self, server: DemoMlflowServer, port: int) -> None:
        from governance.demo.webhook import register_webhook

        secret_file = server.root / "webhook-secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(32))
            secret_file.chmod(0o600)
        # The receiver reads the secret from the environment when a delivery arrives.
        os.environ[secret_variable("default")] = secret_file.read_text().strip()
        url = f"http://127.0.0.1:{port}/hooks/mlflow/default/"
        register_webhook(server.uri, url, os.environ[secret_variable("default")])
        self._say(f"MLflow delivers registry webhooks to {url}")

    def _serve(self, port: int, source: MlflowSource) -> None:
        # Demo only: DEBUG serves static files through WhiteNoise's finders.
        settings.DEBUG = True
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        schedule = settings.CELERY_BEAT_SCHEDULE["sync-incremental"]["schedule"]
        every = schedule.total_seconds() if isinstance(schedule, timedelta) else 60.0
        # No beat runs in the demo; this thread stands in for its incremental sync.
        poller = _PeriodicSync(source.pk, every)
        poller.start()
        self._say(f"dashboard at http://127.0.0.1:{port}/  (MLflow UI at {source.tracking_uri}/)")
        self._say(f"syncing every {every:.0f} s; stop with Ctrl-C")
        try:
            # No autoreloader: it would run this whole command again in a child process.
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            poller.stop.set()


class _PeriodicSync(threading.Thread):
    """Run an incremental sync of one source every few seconds until stopped."""

    def __init__(self, source_id: int, every: float) -> None:
        super().__init__(name="demo-sync", daemon=True)
        self.source_id = source_id
        self.every = every
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                sync_source(self.source_id)
            except SyncFailed:
                # The sync has recorded the error on the source; the next pass retries.
                logger.warning("Demo sync of source %s failed", self.source_id)
            finally:
                connections.close_all()


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Hold back INFO logs while preparing: the progress lines already say it all."""
    if "LOG_LEVEL" in os.environ:
        yield
        return
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(level)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwinds through handle()'s finally, which stops the MLflow server.
    sys.exit(0)
