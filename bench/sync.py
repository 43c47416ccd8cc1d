"""Time the sync against MLflow's own paging on N runs; print the times and ratios.

Usage: ``.venv/bin/python bench/sync.py [--runs N] [--experiments N] [--workers N]``.

The runs (about 10 params, 8 metrics and 6 tags each, spread over the experiments) are
written once through MLflow's own SQLAlchemy store into a SQLite file cached under
``--cache`` and reused by later invocations; an ``mlflow server`` is then started on
it. The mirror goes into a PostgreSQL database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/gov_bench_sync) that is dropped and re-created
first, so never point this at real data. It times:

(a) paging every run through ``MlflowClient.search_runs`` alone;
(b) a full sync into the empty mirror;
(c) an incremental sync with nothing new;
(d) a full reconciliation with nothing changed.

Measured on 2026-12-03, N=20,000, on two cores shared with other test runs (load
average about 12, so MLflow served about 70 runs/s instead of its usual 700):
(a) 285 s, (b) 214 s, (c) 1.3 s, (d) 138 s; b/a = 0.75, d/a = 0.48. The sync reads
runs as JSON on four connections and spends about 7 s of its own CPU on (d), against
the MLflow client's 17 s on (a).
"""

import argparse
import os
import random
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gov_bench_sync"


def _load(path: Path, runs: int, experiments: int) -> None:
    """Write the runs into a new SQLite file at ``path`` with MLflow's own schema.

    MLflow's store creates the database and the experiments; the runs go into its
    tables through its SQLAlchemy models in bulk, because the per-run store API
    manages only a few runs per second on a busy two-core machine.
    """
    from mlflow.store.tracking.dbmodels import models as db
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store: Any = SqlAlchemyStore(  # type: ignore[no-untyped-call]
        f"sqlite:///{partial}", str(path.parent / "artifacts")
    )
    experiment_ids = [store.create_experiment(f"bench-{i:02d}") for i in range(experiments)]
    locations = [store.get_experiment(e).artifact_location for e in experiment_ids]
    rng = random.Random(7)
    start = int(time.time() * 1000) - runs * 1000 - 86_400_000
    tables: dict[str, list[dict[str, Any]]] = {"runs": [], "params": [], "metrics": [], "tags": []}
    for index in range(runs):
        run_id = uuid.UUID(int=rng.getrandbits(128)).hex
        slot = index % experiments
        started = start + index * 1000
        tables["runs"].append(
            {
                "run_uuid": run_id,
                "name": f"run-{index:06d}",
                "source_type": "LOCAL",
                "user_id": "bench",
                "status": "FINISHED",
                "start_time": started,
                "end_time": started + 900,
                "lifecycle_stage": "active",
                "artifact_uri": f"{locations[slot]}/{run_id}/artifacts",
                "experiment_id": int(experiment_ids[slot]),
            }
        )
        tables["params"] += [
            {"run_uuid": run_id, "key": f"param_{k}", "value": str(rng.randint(0, 10_000))}
            for k in range(10)
        ]
        tables["metrics"] += [
            {
                "run_uuid": run_id,
                "key": f"metric_{k}",
                "value": rng.random(),
                "timestamp": started + 500,
                "step": 0,
                "is_nan": False,
            }
            for k in range(8)
        ]
        tables["tags"] += [
            {"run_uuid": run_id, "key": f"tag_{k}", "value": f"value {rng.randint(0, 99)}"}
            for k in range(5)
        ]
        tables["tags"].append(
            {"run_uuid": run_id, "key": "mlflow.runName", "value": f"run-{index:06d}"}
        )
    with store.engine.begin() as connection:
        connection.execute(db.SqlRun.__table__.insert(), tables["runs"])
        connection.execute(db.SqlParam.__table__.insert(), tables["params"])
        connection.execute(db.SqlMetric.__table__.insert(), tables["metrics"])
        connection.execute(db.SqlLatestMetric.__table__.insert(), tables["metrics"])
        connection.execute(db.SqlTag.__table__.insert(), tables["tags"])
    store.engine.dispose()
    partial.rename(path)


def _server(folder: Path, workers: int) -> Any:
    sys.path.insert(0, str(ROOT))
    from tests.support.mlflow_server import MlflowServer

    server = MlflowServer(root=folder, workers=workers)
    server.start(timeout=300)
    return server


def _fresh_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    # The sync's per-step timings.
    logging.getLogger("governance.sync").setLevel(logging.DEBUG)

    call_command("migrate", verbosity=0)


def _page_all(uri: str, page_size: int) -> int:
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient(tracking_uri=uri)
    experiment_ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    count, token = 0, None
    while True:
        page = client.search_runs(
            experiment_ids, run_view_type=ViewType.ALL, max_results=page_size, page_token=token
        )
        count += len(page)
        token = page.token
        if not token:
            return count


def _timed(label: str, action: Any) -> float:
    clock, cpu = time.monotonic(), time.process_time()
    result = action()
    elapsed, used = time.monotonic() - clock, time.process_time() - cpu
    print(f"{label}: {elapsed:.2f} s, bench process CPU {used:.2f} s  ({result})", flush=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--experiments", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="mlflow server workers")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench-sync")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()

    folder = args.cache / f"runs-{args.runs}-exp-{args.experiments}"
    store = folder / "mlflow.db"
    if not store.exists():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"loading {args.runs} runs into {store} (cached for later runs)", flush=True)
        _load(store, args.runs, args.experiments)
    shutil.rmtree(folder / "server.log", ignore_errors=True)
    server = _server(folder, args.workers)
    try:
        _fresh_database(args.database_url)
        _setup_django(args.database_url)
        from django.conf import settings

        from governance.models import MlflowSource, Run
        from governance.sync import sync_source

        source = MlflowSource.objects.create(name="bench", tracking_uri=server.uri)
        print(
            f"{args.runs} runs, {args.experiments} experiments, server workers={args.workers}, "
            f"SYNC_READERS={settings.SYNC_READERS}, page size {settings.SYNC_PAGE_SIZE}"
        )
        a = _timed("(a) search_runs paging", lambda: _page_all(server.uri, settings.SYNC_PAGE_SIZE))
        b = _timed("(b) full sync, empty mirror", lambda: sync_source(source.pk, full=True).line())
        c = _timed("(c) incremental, nothing new", lambda: sync_source(source.pk).line())
        d = _timed("(d) full, nothing changed", lambda: sync_source(source.pk, full=True).line())
        print(f"mirrored runs: {Run.objects.filter(source=source).count()}")
        print(f"b/a = {b / a:.2f}   c/a = {c / a:.3f}   d/a = {d / a:.2f}   c = {c:.2f} s")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
