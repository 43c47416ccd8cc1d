"""A model with an incumbent and a candidate version, requests and ledger history."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from django.contrib.auth.models import User
from django.db import transaction

from governance import ledger, workflow
from governance.models import ModelVersion, RegisteredModel, TransitionRequest
from tests.registry_ui import mirror_data
from tests.support.personas import PASSWORD

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIGNATURE_V1 = {
    "inputs": [{"type": "double", "name": "income", "required": True}],
    "outputs": [{"type": "long", "required": True}],
}
SIGNATURE_V2 = {
    "inputs": [
        {"type": "double", "name": "income", "required": True},
        {"type": "string", "name": "<b>region</b>", "required": False},
    ],
    "outputs": [{"type": "double", "required": True}],
}


@dataclass(frozen=True)
class Pair:
    model: RegisteredModel
    incumbent: ModelVersion
    candidate: ModelVersion


def pair(name: str = "credit-scorer") -> Pair:
    """Version 1 in Production and version 2 in Staging, trained differently."""
    exp = mirror_data.experiment(f"{name}-exp")
    old = mirror_data.run(
        exp,
        "train-1",
        {"auc": 0.81, "recall": 0.7},
        {"depth": "4", "alpha": "0.1"},
        user_id="derek",
    )
    new = mirror_data.run(
        exp,
        "train-2",
        {"auc": 0.87, "recall": 0.75},
        {"depth": "6", "alpha": "0.1"},
        user_id="derek",
    )
    mirror_data.dataset(old, "loans-2025", "d1g3st-old")
    mirror_data.dataset(new, "loans-2026", "d1g3st-new")
    model = mirror_data.registered_model(name)
    incumbent = mirror_data.version(
        model, 1, old, stage="Production", signature=SIGNATURE_V1, source_uri="s3://m/1"
    )
    candidate = mirror_data.version(
        model, 2, new, stage="Staging", signature=SIGNATURE_V2, source_uri="s3://m/2"
    )
    return Pair(model, incumbent, candidate)


def requested(
    requester: User, version: ModelVersion, target: str = "Production", kind: str = "stage"
) -> TransitionRequest:
    """Make a request through the workflow service, so its evidence is really frozen."""
    return workflow.request_transition(requester, version, kind, target, "AUC up from 0.81")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def observed_stage(
    model: RegisteredModel, version: int, stage: str, window: tuple[int, int]
) -> None:
    """Record a stage change a sync saw between two minutes after ``T0``."""
    start, end = window
    with mock.patch("django.utils.timezone.now", return_value=at(end)), transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action="mlflow.stage_changed",
                object_type="model_version",
                precision="observed",
                source_name=model.source.name,
                model_name=model.name,
                version=version,
                target=stage,
                before={"stage": "None"},
                after={"stage": stage},
                window_start=at(start),
                window_end=at(end),
            )
        )


def applied_stage(
    model: RegisteredModel, version: int, stage: str, minute: int, **extra: Any
) -> None:
    """Record a stage change this system applied at a minute after ``T0``."""
    with mock.patch("django.utils.timezone.now", return_value=at(minute)), transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action="request.applied",
                object_type="transition_request",
                object_id=str(extra.get("request_id", 99)),
                precision="exact",
                actor_role="system",
                source_name=model.source.name,
                model_name=model.name,
                version=version,
                target=stage,
                after={"stage": stage},
                details={"target_kind": "stage", "requested_by": "Dana Scully", **extra},
            )
        )


def decided(requester: User, officer: User) -> TransitionRequest:
    """A request to Production approved by ``officer``, and another left pending."""
    pair_ = pair()
    requested(requester, pair_.candidate, "champion", "alias")
    transition = requested(requester, pair_.candidate)
    workflow.decide(officer, transition.pk, "approved", "Higher AUC, same data.", PASSWORD)
    return transition


def custody_history(requester: User, officer: User) -> Pair:
    """Version 1 seen in Production, then version 2 requested, approved and applied."""
    pair_ = pair()
    observed_stage(pair_.model, 1, "Production", (0, 10))
    transition = requested(requester, pair_.candidate)
    workflow.decide(officer, transition.pk, "approved", "Recall is better.", PASSWORD)
    applied_stage(
        pair_.model,
        2,
        "Production",
        60,
        request_id=transition.pk,
        approvers=[officer.get_full_name()],
    )
    return pair_
