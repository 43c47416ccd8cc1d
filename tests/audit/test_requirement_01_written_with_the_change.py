"""Requirement 1: every governed change writes its entry; no entry, no change."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError

from governance import roles, workflow
from governance.api.tokens import create_api_token
from governance.models import (
    ApiToken,
    ApplyOutbox,
    Decision,
    LedgerEntry,
    LedgerHead,
    ModelVersion,
    RegisteredModel,
    TransitionRequest,
)
from governance.sync import sync_source
from governance.sync.summary import SyncFailed
from tests.governance.sync_support import client_for, unique
from tests.governance.sync_support import make_source as make_mirror_source
from tests.support.mirror_rows import make_source, make_version
from tests.support.mlflow_server import MlflowServer
from tests.support.personas import ALL, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

Snapshot = tuple[Any, ...]


@pytest.fixture
def users() -> dict[str, User]:
    return {persona.username: make_user(persona) for persona in ALL}


@pytest.fixture
def version() -> ModelVersion:
    return make_version(make_source(), "req01-churn", 3, run_author="derek")


def _state() -> Snapshot:
    """Everything a governed change could leave behind, besides the ledger."""
    return (
        list(TransitionRequest.objects.values_list("pk", "status", "required_approvals")),
        list(Decision.objects.values_list("pk")),
        list(ApplyOutbox.objects.values_list("pk")),
        list(ApiToken.objects.values_list("pk", "revoked_at")),
        sorted(User.objects.filter(groups__isnull=False).values_list("username", "groups__name")),
        list(ModelVersion.objects.values_list("registered_model__risk_tier", flat=True)),
    )


def _ledger() -> Snapshot:
    head = LedgerHead.objects.filter(pk=1).values_list("seq", "entry_hash").first()
    return (LedgerEntry.objects.count(), head)


def _break_the_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse_to_write(*args: object, **kwargs: object) -> None:
        raise DatabaseError("ledger table unavailable")

    monkeypatch.setattr(LedgerEntry.objects, "bulk_create", refuse_to_write)


def _pending(users: dict[str, User], version: ModelVersion) -> TransitionRequest:
    return workflow.request_transition(users["dana"], version, "stage", "Production", "lift")


def _request(users: dict[str, User], version: ModelVersion) -> Callable[[], Any]:
    return lambda: _pending(users, version)


def _cancel(users: dict[str, User], version: ModelVersion) -> Callable[[], Any]:
    pk = _pending(users, version).pk
    return lambda: workflow.cancel_request(users["dana"], pk, "wrong run")


def _approve(users: dict[str, User], version: ModelVersion) -> Callable[[], Any]:
    pk = _pending(users, version).pk
    return lambda: workflow.decide(users["olivia"], pk, "approved", "checked", PASSWORD)


def _reject(users: dict[str, User], version: ModelVersion) -> Callable[[], Any]:
    pk = _pending(users, version).pk
    return lambda: workflow.decide(users["olivia"], pk, "rejected", "weak", PASSWORD)


def _risk_tier(users: dict[str, User], version: ModelVersion) -> Callable[[], Any]:
    model_id = version.registered_model_id
    return lambda: workflow.set_risk_tier(users["olivia"], model_id, "high", "credit use")


def _grant(users: dict[str, User], version: ModelVersion) -> Callable[[], Any]:
    return lambda: roles.grant_role(users["erin"], "data_scientist", by=users["adam"])


def _revoke(users: dict[str, User], version: ModelVersion) -> Callable[[], Any]:
    return lambda: roles.revoke_role(users["erin"], "executive", by=users["adam"])


def _token(users: dict[str, User], version: ModelVersion) -> Callable[[], Any]:
    return lambda: create_api_token(users["dana"], "pipeline", by=users["dana"])


@pytest.mark.parametrize(
    "prepare",
    [_request, _cancel, _approve, _reject, _risk_tier, _grant, _revoke, _token],
    ids=lambda prepare: prepare.__name__.strip("_"),
)
def test_a_change_whose_entry_cannot_be_written_does_not_happen(
    users: dict[str, User],
    version: ModelVersion,
    monkeypatch: pytest.MonkeyPatch,
    prepare: Callable[[dict[str, User], ModelVersion], Callable[[], Any]],
) -> None:
    act = prepare(users, version)
    state, ledger_before = _state(), _ledger()
    _break_the_ledger(monkeypatch)

    with pytest.raises(DatabaseError, match="ledger table unavailable"):
        act()

    assert _state() == state
    assert _ledger() == ledger_before


@pytest.mark.parametrize(
    "prepare",
    [_request, _cancel, _approve, _reject, _risk_tier, _grant, _revoke, _token],
    ids=lambda prepare: prepare.__name__.strip("_"),
)
def test_every_governed_change_appends_exactly_its_entries(
    users: dict[str, User],
    version: ModelVersion,
    prepare: Callable[[dict[str, User], ModelVersion], Callable[[], Any]],
) -> None:
    act = prepare(users, version)
    state, (count, _) = _state(), _ledger()

    act()

    assert _state() != state
    new = LedgerEntry.objects.filter(seq__gt=count)
    assert new.exists()
    assert {entry.actor_username for entry in new} <= {"dana", "olivia", "adam"}


def test_an_observed_mlflow_change_is_mirrored_only_with_its_entry(
    mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(mlflow_server)
    name = unique("req01-model")
    run = client.create_run(client.create_experiment(unique("req01-experiment")))
    client.set_terminated(run.info.run_id)
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
    source = make_mirror_source(mlflow_server)
    sync_source(source.pk, full=True)
    client.set_registered_model_alias(name, "champion", "1")
    ledger_before = _ledger()

    with monkeypatch.context() as patch:
        _break_the_ledger(patch)
        with pytest.raises(SyncFailed, match="ledger table unavailable"):
            sync_source(source.pk, full=True)

    assert RegisteredModel.objects.get(source=source, name=name).aliases == {}
    assert _ledger() == ledger_before
    sync_source(source.pk, full=True)
    assert RegisteredModel.objects.get(source=source, name=name).aliases == {"champion": 1}
    entry = LedgerEntry.objects.get(model_name=name, action__startswith="mlflow.alias")
    assert entry.after is not None
