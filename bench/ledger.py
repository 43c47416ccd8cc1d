"""Append 100,000 ledger entries on PostgreSQL, verify them, print both rates.

Usage: ``.venv/bin/python bench/ledger.py [--entries N] [--batch N]``. The database
(DATABASE_URL, default postgres://postgres@127.0.0.1:5432/gov_bench) is created if
missing, migrated, and its ledger emptied first, so never point this at real data.
"""

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gov_bench"


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str, checkpoint_dir: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DATABASE_URL"] = url
    # A throwaway key and directory: the benchmark must not touch real checkpoints.
    os.environ["LEDGER_SIGNING_KEY"] = secrets.token_hex(32)
    os.environ["LEDGER_CHECKPOINT_DIR"] = checkpoint_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _empty_ledger() -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        # The bench database's owner is a superuser; the triggers refuse anyone else.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("TRUNCATE governance_ledgerentry, governance_ledgerhead")


def _drafts(start: int, count: int) -> list[object]:
    from governance.ledger import EntryDraft

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        EntryDraft(
            action="mlflow.alias_moved",
            object_type="model_version",
            object_id=f"credit-risk/{number}",
            precision="observed",
            source_name="default",
            model_name="credit-risk",
            version=number % 50 + 1,
            target="champion",
            before={"version": number % 50},
            after={"version": number % 50 + 1},
            reason="",
            details={"sync_run": number // 100, "observed_action": "mlflow.alias_moved"},
            window_start=moment + timedelta(seconds=number),
            window_end=moment + timedelta(seconds=number + 30),
        )
        for number in range(start, start + count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument(
        "--verify-only", action="store_true", help="Verify the ledger already in the database."
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        raise SystemExit("the ledger benchmark runs on PostgreSQL only")
    _ensure_database(url)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as checkpoint_dir:
        _setup_django(url, checkpoint_dir)
        if not args.verify_only:
            _empty_ledger()
            _append(args.entries, args.batch)
        _verify()


def _append(entries: int, batch: int) -> None:
    from django.db import connection, transaction

    from governance import ledger

    print(f"load average before appending: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    started = time.perf_counter()
    for start in range(0, entries, batch):
        count = min(batch, entries - start)
        with transaction.atomic():
            ledger.append_many(_drafts(start, count))  # type: ignore[arg-type]
    append_seconds = time.perf_counter() - started
    print(
        f"appended {entries:,} entries in batches of {batch:,}: "
        f"{append_seconds:.1f} s, {entries / append_seconds:,.0f} appends/s"
    )

    with transaction.atomic():
        single_started = time.perf_counter()
        for draft in _drafts(entries, 200):
            ledger.append(draft)  # type: ignore[arg-type]
        single_seconds = time.perf_counter() - single_started
    print(f"appended 200 single entries in one transaction: {200 / single_seconds:,.0f} appends/s")

    # What autovacuum would do after a bulk load; without statistics the planner
    # sorts the table on disk instead of reading the sequence index.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE governance_ledgerentry")


def _verify() -> None:
    from governance.checkpoints import write_checkpoint
    from governance.ledger_verify import verify_ledger

    write_checkpoint()
    print(f"load average before verifying: {os.getloadavg()[0]:.1f}")
    report = verify_ledger()
    if not report.intact:
        raise SystemExit(f"verification failed: {report.problem}")
    print(
        f"verified {report.entries:,} entries and {report.checkpoints} checkpoint: "
        f"{report.elapsed_seconds:.2f} s, {report.entries / report.elapsed_seconds:,.0f} entries/s"
    )


if __name__ == "__main__":
    main()
