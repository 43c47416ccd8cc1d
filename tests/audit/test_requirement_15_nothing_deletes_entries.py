"""Requirement 15: entries outlive what they describe; nothing in the product deletes them."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError

from governance import roles, workflow
from governance.ledger_verify import verify_ledger
from governance.models import LedgerEntry, ModelVersion, RegisteredModel
from governance.sync import sync_source
from tests.governance.sync_support import client_for, make_source, unique
from tests.support.mlflow_server import MlflowServer
from tests.support.personas import ADAM, DANA, ERIN, OLIVIA, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def _chain() -> list[tuple[int, str, str]]:
    return list(LedgerEntry.objects.values_list("seq", "action", "entry_hash").order_by("seq"))


def test_deleting_a_governed_model_in_mlflow_and_syncing_keeps_every_entry(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    client = client_for(mlflow_server)
    name = unique("req15-model")
    experiment_id = client.create_experiment(unique("req15-experiment"))
    run = client.create_run(experiment_id, tags={"mlflow.user": "derek"})
    client.set_terminated(run.info.run_id)
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
    source = make_source(mlflow_server)
    sync_source(source.pk, full=True)
    dana, olivia = make_user(DANA), make_user(OLIVIA)
    version = ModelVersion.objects.get(registered_model__name=name, version=1)
    request = workflow.request_transition(dana, version, "stage", "Staging", "shadow run")
    workflow.decide(olivia, request.pk, "rejected", "drift unexplained", PASSWORD)
    before = _chain()

    client.delete_model_version(name, "1")
    client.delete_registered_model(name)
    sync_source(source.pk, full=True)

    after = _chain()
    assert after[: len(before)] == before
    assert {action for _, action, _ in after[len(before) :]} >= {
        "mlflow.version_deleted",
        "mlflow.model_deleted",
    }
    assert RegisteredModel.objects.get(source=source, name=name).deleted_observed_at
    assert LedgerEntry.objects.filter(model_name=name, action="decision.rejected").exists()
    report = verify_ledger(checkpoint_dir=tmp_path)
    assert report.intact, report.problem
    assert report.entries == len(after)


def test_deleting_a_user_with_entries_is_refused_and_keeps_them() -> None:
    adam, erin = make_user(ADAM), make_user(ERIN)
    # Erin's only trace is on the ledger: a refused attempt to change roles.
    with pytest.raises(PermissionDenied):
        roles.grant_role(adam, "governance_officer", by=erin)
    recorded = _chain()

    with pytest.raises(ProtectedError) as refused:
        erin.delete()

    assert {type(row) for row in refused.value.protected_objects} == {LedgerEntry}
    assert User.objects.filter(pk=erin.pk).exists()
    assert _chain() == recorded


def test_deleting_the_admin_who_changed_a_role_is_refused() -> None:
    adam, erin = make_user(ADAM), make_user(ERIN)
    roles.revoke_role(erin, "executive", by=adam, reason="left the firm")

    with pytest.raises(ProtectedError):
        adam.delete()

    entry = LedgerEntry.objects.get(action="role.revoked")
    assert (entry.actor_id, entry.actor_name) == (adam.pk, "Adam Admin")
