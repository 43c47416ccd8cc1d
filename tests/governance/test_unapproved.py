"""Which registry changes seen in MLflow no approval explains."""

import uuid
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from mlflow import MlflowClient

from governance import apply, ledger, sync, workflow
from governance.models import ApplyOutbox, ModelVersion, TransitionRequest
from governance.unapproved import flag_unapproved, is_explained, list_unapproved_changes
from tests.support.mirror_rows import make_source, make_version
from tests.support.mlflow_server import MlflowServer
from tests.support.personas import ALL, DANA, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


@pytest.fixture
def versions() -> list[ModelVersion]:
    source = make_source("prod")
    return [make_version(source, "churn", number) for number in (1, 2)]


def _observed(
    action: str,
    version: int,
    target: str,
    before: object = None,
    window_start: datetime | None = None,
    model_name: str = "churn",
) -> ledger.EntryDraft:
    return ledger.EntryDraft(
        action=action,
        object_type="model_version",
        object_id=f"prod/{model_name}/{version}",
        precision="observed",
        source_name="prod",
        model_name=model_name,
        version=version,
        target=target,
        before=before,
        window_start=window_start,
        window_end=timezone.now(),
    )


def _request(
    version: ModelVersion, kind: str, target: str, status: str = "applied"
) -> TransitionRequest:
    requester = User.objects.get_or_create(username="dana")[0]
    return TransitionRequest.objects.create(
        registered_model=version.registered_model,
        model_version=version,
        target_kind=kind,
        target=target,
        requested_by=requester,
        rationale="x",
        created_at=timezone.now(),
        status=status,
        applied_at=timezone.now() if status == "applied" else None,
        evidence={},
        evidence_hash="0" * 64,
    )


def test_it_flags_an_alias_set_that_nothing_explains(versions: list[ModelVersion]) -> None:
    draft = _observed("mlflow.alias_set", 2, "champion")

    [flag] = flag_unapproved([draft])

    assert (flag.action, flag.model_name, flag.version, flag.target, flag.precision) == (
        "mlflow.unapproved_change",
        "churn",
        2,
        "champion",
        "observed",
    )
    assert flag.details == {"observed_action": "mlflow.alias_set"}


def test_an_applied_request_explains_the_same_change(versions: list[ModelVersion]) -> None:
    _request(versions[1], "alias", "champion")

    assert is_explained(_observed("mlflow.alias_moved", 2, "champion"))
    assert not is_explained(_observed("mlflow.alias_moved", 1, "champion"))
    assert not is_explained(_observed("mlflow.alias_moved", 2, "challenger"))
    assert not is_explained(_observed("mlflow.alias_moved", 2, "champion", model_name="other"))
    assert not is_explained(_observed("mlflow.stage_changed", 2, "champion"))


def test_an_approved_request_being_applied_explains_its_change(
    versions: list[ModelVersion],
) -> None:
    _request(versions[1], "stage", "Production", status="approved")

    assert is_explained(_observed("mlflow.stage_changed", 2, "Production", {"stage": "None"}))


@pytest.mark.parametrize("status", ["pending", "rejected", "cancelled", "stale", "failed"])
def test_requests_that_were_not_approved_explain_nothing(
    versions: list[ModelVersion], status: str
) -> None:
    _request(versions[1], "stage", "Production", status=status)

    assert not is_explained(_observed("mlflow.stage_changed", 2, "Production"))


def test_archiving_by_an_applied_promotion_is_explained(versions: list[ModelVersion]) -> None:
    _request(versions[1], "stage", "Production")

    assert is_explained(_observed("mlflow.stage_changed", 1, "Archived", {"stage": "Production"}))
    assert not is_explained(_observed("mlflow.stage_changed", 1, "Archived", {"stage": "Staging"}))


def test_an_apply_before_the_observation_window_explains_nothing(
    versions: list[ModelVersion],
) -> None:
    _request(versions[1], "alias", "champion")
    later = timezone.now() + timedelta(seconds=1)

    assert not is_explained(_observed("mlflow.alias_moved", 2, "champion", window_start=later))


def test_an_alias_removal_is_never_explained(versions: list[ModelVersion]) -> None:
    _request(versions[1], "alias", "champion")

    assert len(flag_unapproved([_observed("mlflow.alias_removed", 2, "champion")])) == 1


def test_it_ignores_changes_that_are_not_governed(versions: list[ModelVersion]) -> None:
    assert flag_unapproved([_observed("mlflow.tag_changed", 2, "owner")]) == []


def test_list_unapproved_changes_returns_the_newest_first(versions: list[ModelVersion]) -> None:
    drafts = [
        _observed("mlflow.alias_set", 1, "champion"),
        _observed("mlflow.alias_set", 2, "challenger", model_name="other"),
    ]
    with transaction.atomic():
        ledger.append_many(flag_unapproved(drafts))

    assert [e.model_name for e in list_unapproved_changes()] == ["other", "churn"]
    assert [e.target for e in list_unapproved_changes(model_name="churn")] == ["champion"]
    assert list(list_unapproved_changes(source_name="elsewhere")) == []


@pytest.mark.filterwarnings("ignore:.*transition_model_version_stage.*:FutureWarning")
def test_the_sync_flags_a_manual_change_but_not_an_applied_one(
    mlflow_server: MlflowServer,
) -> None:
    users = {persona.username: make_user(persona) for persona in ALL}
    client = MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    name = f"fraud-{uuid.uuid4().hex[:8]}"
    source = make_source(f"s-{uuid.uuid4().hex[:6]}", mlflow_server.uri)
    experiment_id = client.create_experiment(f"{name}-experiment")
    client.create_registered_model(name)
    for _ in range(2):
        run = client.create_run(experiment_id, tags={"mlflow.user": "derek"})
        client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
    sync.sync_model(source.pk, name)

    client.set_registered_model_alias(name, "champion", "1")
    sync.sync_model(source.pk, name)
    version = ModelVersion.objects.get(registered_model__name=name, version=2)
    request = workflow.request_transition(users[DANA.username], version, "stage", "Staging", "x")
    workflow.decide(users["olivia"], request.pk, "approved", "ok", PASSWORD)
    assert apply.apply_outbox(ApplyOutbox.objects.get(request=request).pk).status == "done"
    sync.sync_model(source.pk, name)

    flagged = list_unapproved_changes(source_name=source.name)
    assert [(e.target, e.version, e.details) for e in flagged] == [
        ("champion", 1, {"observed_action": "mlflow.alias_set"})
    ]
