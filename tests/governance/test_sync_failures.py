"""A sync that cannot reach MLflow stops cleanly, says why, and the next one completes."""

import pytest
from pytest_django import Settings

from governance.models import LedgerEntry, MlflowSource, RegisteredModel, Run, SyncRun
from governance.sync import SyncFailed, sync_source
from governance.sync.lease import claim_lease
from tests.governance.sync_support import client_for, make_source, unique
from tests.support.mlflow_server import MlflowServer
from tests.support.services import free_port

pytestmark = pytest.mark.django_db


def test_mlflow_stopping_mid_sync_fails_cleanly_and_the_next_sync_completes(
    fresh_mlflow_server: MlflowServer, settings: Settings
) -> None:
    settings.SYNC_PAGE_SIZE = 2
    settings.SYNC_READERS = 1
    client = client_for(fresh_mlflow_server)
    exp_id = client.create_experiment("paged")
    run_ids = [client.create_run(exp_id, run_name=f"before {i}").info.run_id for i in range(3)]
    for run_id in run_ids:
        client.set_terminated(run_id)
    client.create_registered_model("scoring")
    client.create_model_version("scoring", f"runs:/{run_ids[0]}/model", run_ids[0])
    source = make_source(fresh_mlflow_server)
    sync_source(source.pk, full=True)
    for index in range(4):
        client.set_terminated(client.create_run(exp_id, run_name=f"after {index}").info.run_id)
    client.set_registered_model_alias("scoring", "champion", "1")
    entries = LedgerEntry.objects.count()
    pages: list[int] = []

    def stop_after_first_page(runs: int) -> None:
        pages.append(runs)
        if len(pages) == 1:
            fresh_mlflow_server.stop()

    with pytest.raises(SyncFailed, match=f"sync of source {source.name} failed: MlflowUnavailable"):
        sync_source(source.pk, full=True, progress=stop_after_first_page)

    source.refresh_from_db()
    assert "MlflowUnavailable" in source.last_error and source.last_error_at is not None
    failed = SyncRun.objects.filter(source=source).order_by("-started_at").first()
    assert failed is not None and failed.status == "failed" and failed.error == source.last_error
    assert source.sync_lease_token == ""
    # The registry was not reached: no half-applied model, no event.
    assert RegisteredModel.objects.get(source=source, name="scoring").aliases == {}
    assert LedgerEntry.objects.count() == entries

    fresh_mlflow_server.start()
    summary = sync_source(source.pk, full=True)

    assert Run.objects.filter(source=source, deleted_observed_at__isnull=True).count() == 7
    assert RegisteredModel.objects.get(source=source, name="scoring").aliases == {"champion": 1}
    assert summary.events >= 1
    source.refresh_from_db()
    assert source.last_success_at is not None and source.last_success_at > source.last_error_at


def test_an_unreachable_source_records_the_error_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cr3t-pass")
    source = MlflowSource.objects.create(
        name=unique("dead"), tracking_uri=f"http://admin:s3cr3t-pass@127.0.0.1:{free_port()}"
    )

    with pytest.raises(SyncFailed) as raised:
        sync_source(source.pk)

    source.refresh_from_db()
    assert str(raised.value).startswith(f"sync of source {source.name} failed: MlflowUnavailable")
    assert "s3cr3t-pass" not in str(raised.value)
    assert "s3cr3t-pass" not in source.last_error and "MlflowUnavailable" in source.last_error
    assert SyncRun.objects.get(source=source).status == "failed"


def test_a_sync_of_a_source_already_being_synced_is_skipped(mlflow_server: MlflowServer) -> None:
    source = make_source(mlflow_server)
    lease = claim_lease(source.pk)
    assert lease is not None

    summary = sync_source(source.pk, full=True)

    assert summary.skipped and summary.created == 0
    assert not SyncRun.objects.filter(source=source).exists()
    assert claim_lease(source.pk) is None
    lease.release()
    assert not sync_source(source.pk).skipped


def test_an_expired_lease_of_a_crashed_sync_is_taken_over(mlflow_server: MlflowServer) -> None:
    source = make_source(mlflow_server)
    assert claim_lease(source.pk) is not None
    MlflowSource.objects.filter(pk=source.pk).update(sync_lease_expires_at="2000-01-01T00:00Z")

    assert not sync_source(source.pk).skipped
