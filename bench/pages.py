"""Measure the reviewer pages at 100,000 runs and 1,000 model versions on PostgreSQL.

Usage: ``.venv/bin/python bench/pages.py [--runs N] [--models N] [--requests N]``.
The database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/gov_bench_pages)
is created if missing and migrated; the mirror rows of its "bench" source are written
once with bulk_create (not through MLflow) and reused while their count matches, so
never point this at real data. The pages are then served by gunicorn (by default 4
single-threaded workers, which shared 2 cores better than 2 workers of 4 threads;
persistent database connections) and fetched over HTTP by one client, then by 8
concurrent clients, each signed in with a real session cookie. It prints p50 and p95
per page; the target is p95 <= 150 ms at 8 clients.
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.models import RegisteredModel

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gov_bench_pages"
ROOT = Path(__file__).resolve().parent.parent
SOURCE = "bench"
METRICS = ("accuracy", "loss", "auc", "f1", "recall")
VERSIONS_PER_MODEL = 10
HISTORY_KEYS = ("accuracy", "loss", "auc")
HISTORY_STEPS = 20
BATCH = 5_000
TARGET_P95_MS = 150.0


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def _setup_django(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seeded(runs: int, models: int) -> bool:
    from governance.models import ModelVersion, Run

    return (
        Run.objects.filter(source__name=SOURCE).count() == runs
        and ModelVersion.objects.filter(registered_model__source__name=SOURCE).count()
        == models * VERSIONS_PER_MODEL
    )


def _wipe() -> None:
    from django.db import connection

    tables = (
        "governance_metrichistory, governance_runmetric, governance_datasetinput, "
        "governance_decision, governance_applyoutbox, governance_transitionrequest, "
        "governance_modelversion, governance_registeredmodel, governance_loggedmodel, "
        "governance_run, governance_experiment"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")


def _seed(run_count: int, model_count: int) -> None:
    """Write the mirror rows in bulk: one large experiment holds most runs."""
    from django.db import connection

    from governance.models import (
        DatasetInput,
        Experiment,
        MetricHistory,
        MlflowSource,
        ModelVersion,
        RegisteredModel,
        Run,
        RunMetric,
    )

    started = time.perf_counter()
    rng = random.Random(7)
    source, _ = MlflowSource.objects.get_or_create(
        name=SOURCE, defaults={"tracking_uri": "http://bench.invalid"}
    )
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    big = Experiment.objects.create(
        source=source,
        experiment_id="1",
        name="bench-large",
        lifecycle_stage="active",
        content_hash="x",
    )
    small = Experiment.objects.create(
        source=source,
        experiment_id="2",
        name="bench-small",
        lifecycle_stage="active",
        content_hash="x",
    )
    for start in range(0, run_count, BATCH):
        runs = [
            Run(
                source=source,
                run_id=f"r{number:08d}",
                experiment=big if number % 50 else small,
                name=f"trial-{number}",
                status="FINISHED" if number % 17 else "FAILED",
                start_time=t0 + timedelta(seconds=number * 30),
                start_time_ms=number,
                user_id=f"user{number % 40}",
                lifecycle_stage="active",
                params={
                    "learning_rate": str(round(rng.uniform(0.0001, 0.1), 5)),
                    "optimizer": rng.choice(["adam", "sgd", "lbfgs"]),
                    "max_depth": str(rng.randint(2, 12)),
                    "seed": str(number % 5),
                },
                tags={"team": rng.choice(["risk", "pricing", "fraud"])},
                git_commit=f"{number:040x}"[:40],
                content_hash="x",
            )
            for number in range(start, min(start + BATCH, run_count))
        ]
        Run.objects.bulk_create(runs)
        RunMetric.objects.bulk_create(
            RunMetric(run=run, key=key, value=rng.random(), step=HISTORY_STEPS)
            for run in runs
            for key in METRICS
        )
    print(f"seeded {run_count:,} runs and {run_count * len(METRICS):,} metrics")

    # The runs behind registered versions: the latest ones, with history and datasets.
    version_total = model_count * VERSIONS_PER_MODEL
    version_runs = list(Run.objects.filter(source=source).order_by("-pk")[:version_total])
    MetricHistory.objects.bulk_create(
        (
            MetricHistory(run=run, key=key, step=step, timestamp_ms=step, value=rng.random())
            for run in version_runs
            for key in HISTORY_KEYS
            for step in range(HISTORY_STEPS)
        ),
        batch_size=BATCH,
    )
    DatasetInput.objects.bulk_create(
        (
            DatasetInput(
                run=run,
                name=f"loans-{run.pk % 30}",
                digest=f"{run.pk % 30:08x}",
                context="training" if run.pk % 7 else "production",
            )
            for run in version_runs
        ),
        batch_size=BATCH,
    )
    models = RegisteredModel.objects.bulk_create(
        RegisteredModel(
            source=source,
            name=f"model-{number:04d}",
            aliases={"champion": VERSIONS_PER_MODEL, "challenger": VERSIONS_PER_MODEL - 1},
            risk_tier=rng.choice(["low", "medium", "high"]),
            content_hash="x",
        )
        for number in range(model_count)
    )
    stages = {VERSIONS_PER_MODEL: "Production", VERSIONS_PER_MODEL - 1: "Staging"}
    ModelVersion.objects.bulk_create(
        (
            ModelVersion(
                registered_model=model,
                version=number,
                training_run=version_runs[index * VERSIONS_PER_MODEL + number - 1],
                run_id=version_runs[index * VERSIONS_PER_MODEL + number - 1].run_id,
                stage=stages.get(number, "Archived" if number < 5 else "None"),
                signature={
                    "inputs": [
                        {"type": "double", "name": f"feature_{i}", "required": True}
                        for i in range(12)
                    ],
                    "outputs": [{"type": "long", "required": True}],
                },
                content_hash="x",
            )
            for index, model in enumerate(models)
            for number in range(1, VERSIONS_PER_MODEL + 1)
        ),
        batch_size=BATCH,
    )
    _seed_ledger(models)
    # What autovacuum would do after a bulk load; without statistics the planner
    # guesses one row per table and picks nested loops over 100,000 runs.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"seeded {model_count:,} models, {version_total:,} versions in "
        f"{time.perf_counter() - started:.0f} s"
    )


def _seed_ledger(models: "list[RegisteredModel]") -> None:
    from django.db import transaction

    from governance import ledger
    from governance.ledger import EntryDraft
    from governance.models import LedgerEntry

    # Append the few thousand entries a registry of this size would have observed.
    # The ledger refuses deletes, so entries of an earlier seeding are kept and
    # models that already have theirs are skipped.
    recorded = set(
        LedgerEntry.objects.filter(source_name=SOURCE).values_list("model_name", flat=True)
    )
    for model in models:
        name = model.name
        if name in recorded:
            continue
        with transaction.atomic():
            ledger.append_many(
                [
                    EntryDraft(
                        action=action,
                        object_type="model_version",
                        precision="observed",
                        source_name=SOURCE,
                        model_name=name,
                        version=version,
                        target=target,
                        details={"observed_action": action},
                    )
                    for version, action, target in (
                        (9, "mlflow.stage_changed", "Staging"),
                        (10, "mlflow.stage_changed", "Production"),
                        (10, "mlflow.alias_set", "champion"),
                        (10, "mlflow.unapproved_change", "champion"),
                    )
                ]
            )


def _session_cookie() -> str:
    from django.contrib.auth.models import Group, User
    from django.test import Client

    user, _ = User.objects.get_or_create(
        username="bench-officer", defaults={"first_name": "Bench", "last_name": "Officer"}
    )
    user.groups.add(Group.objects.get(name="governance_officer"))
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(url: str, port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DATABASE_URL=url, DATABASE_CONN_MAX_AGE="300", LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "governance.wsgi",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def _pages() -> dict[str, list[str]]:
    from django.urls import NoReverseMatch, reverse

    from governance.models import Experiment, ModelVersion

    rng = random.Random(11)
    big = Experiment.objects.get(source__name=SOURCE, name="bench-large")
    versions = list(
        ModelVersion.objects.filter(registered_model__source__name=SOURCE).values_list(
            "pk", "training_run_id"
        )
    )
    run_pks = [run for _, run in versions]
    pages = {
        "runs table, sorted by a metric": [
            f"/experiments/{big.pk}/runs/?sort=-metrics.accuracy",
            f"/experiments/{big.pk}/runs/?sort=metrics.loss&page=3",
        ],
        "run detail": [f"/runs/{pk}/" for pk in rng.sample(run_pks, 20)],
        "compare 20 runs": [
            "/runs/compare/?" + "&".join(f"run={pk}" for pk in rng.sample(run_pks, 20))
            for _ in range(5)
        ],
        "model version": [f"/models/versions/{pk}/" for pk, _ in rng.sample(versions, 20)],
        "inventory": ["/models/"],
    }
    try:
        timeline = [reverse("registry_ui:version_timeline", args=[pk]) for pk, _ in versions[:20]]
        pages["version timeline"] = timeline
    except NoReverseMatch:
        pass
    return pages


def _fetch(base: str, path: str, cookie: str) -> float:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
    return (time.perf_counter() - started) * 1000


def _measure(base: str, paths: list[str], cookie: str, clients: int, count: int) -> list[float]:
    for path in paths:
        _fetch(base, path, cookie)
    jobs = [paths[i % len(paths)] for i in range(count)]
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(lambda path: _fetch(base, path, cookie), jobs))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=100, help="each has 10 versions")
    parser.add_argument("--requests", type=int, default=80, help="per page and client count")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument(
        "--only", default="", help="measure only pages whose name contains this text"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        raise SystemExit("the page benchmark runs on PostgreSQL only")
    _ensure_database(url)
    _setup_django(url)
    if args.reseed or not _seeded(args.runs, args.models):
        _wipe()
        _seed(args.runs, args.models)
    cookie = _session_cookie()
    pages = {name: paths for name, paths in _pages().items() if args.only in name}

    port = _free_port()
    server = _start_server(url, port, args.workers, args.threads)
    print(f"gunicorn: {args.workers} workers of {args.threads} threads")
    base = f"http://127.0.0.1:{port}"
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'page':34} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    failures = []
    try:
        for name, paths in pages.items():
            for clients in (1, 8):
                timings = _measure(base, paths, cookie, clients, args.requests)
                p50, p95 = statistics.median(timings), _percentile(timings, 0.95)
                print(f"{name:34} {clients:>7} {p50:8.1f} {p95:8.1f} {max(timings):8.1f}")
                if clients == 8 and p95 > TARGET_P95_MS:
                    failures.append(name)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print("p95 at 8 clients over the 150 ms target: " + (", ".join(failures) or "none"))


if __name__ == "__main__":
    main()
