"""The demo's governance activity: risk tiers, requests, and signed decisions.

Everything goes through the workflow services as the demo users, so the pages
show requests waiting in the officers' inbox, decisions with their evidence, and
one approved change applied to MLflow.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from governance.demo.names import CREDIT_MODEL, DIABETES_MODEL, TUMOUR_MODEL, WINE_MODEL
from governance.demo.users import DEMO_USERS
from governance.models import MlflowSource, ModelVersion, RegisteredModel, TransitionRequest
from governance.workflow import Conflict, InvalidRequest, decide, request_transition, set_risk_tier

logger = logging.getLogger(__name__)

STAGE = TransitionRequest.TargetKind.STAGE
ALIAS = TransitionRequest.TargetKind.ALIAS


@dataclass
class StoryResult:
    """What the story recorded, and the steps MLflow's state did not allow."""

    steps: int = 0
    skipped: list[str] = field(default_factory=list)


def play_story(source: MlflowSource) -> StoryResult | None:
    """Record the demo's governance activity once; return None when it is already there."""
    if TransitionRequest.objects.filter(registered_model__source=source).exists():
        return None
    users = {demo.username: User.objects.get(username=demo.username) for demo in DEMO_USERS}
    passwords = {demo.username: demo.password for demo in DEMO_USERS}
    result = StoryResult()

    def step(description: str, action: Callable[[], object]) -> None:
        try:
            action()
        except (InvalidRequest, Conflict, PermissionDenied, LookupError) as exc:
            # A demo server changed by hand may not allow every step; the rest still run.
            logger.warning("Demo step skipped: %s: %s", description, exc)
            result.skipped.append(f"{description}: {exc}")
        else:
            result.steps += 1

    def model(name: str) -> RegisteredModel:
        return RegisteredModel.objects.get(source=source, name=name)

    def version(name: str, number: int) -> ModelVersion:
        return ModelVersion.objects.select_related("registered_model").get(
            registered_model__source=source, registered_model__name=name, version=number
        )

    def ask(name: str, number: int, kind: str, target: str, why: str) -> TransitionRequest:
        return request_transition(users["dana"], version(name, number), kind, target, why)

    def sign(officer: str, request: TransitionRequest, meaning: str, why: str) -> None:
        decide(users[officer], request.pk, meaning, why, passwords[officer])

    olivia = users["olivia"]
    step(
        "credit risk tier",
        lambda: set_risk_tier(
            olivia, model(CREDIT_MODEL).pk, "high", "Decides retail credit; tier 1 under SR 11-7."
        ),
    )
    step(
        "tumour risk tier",
        lambda: set_risk_tier(
            olivia, model(TUMOUR_MODEL).pk, "high", "Clinical decision support for triage."
        ),
    )
    step(
        "wine risk tier",
        lambda: set_risk_tier(olivia, model(WINE_MODEL).pk, "low", "Internal analytics only."),
    )

    def wine_to_production() -> None:
        request = ask(
            WINE_MODEL,
            2,
            STAGE,
            "Production",
            "v2 beats v1 on every cross-validation fold and has run in Staging for a week.",
        )
        sign(
            "olivia",
            request,
            "approved",
            "Same features and signature as v1; higher accuracy on the holdout.",
        )

    def diabetes_challenger() -> None:
        request = ask(
            DIABETES_MODEL,
            1,
            ALIAS,
            "challenger",
            "Keep the ridge baseline as the challenger to the boosted trees.",
        )
        sign(
            "oscar",
            request,
            "rejected",
            "v1 is archived and its holdout error is worse than v2's; propose a new candidate.",
        )

    def credit_to_production() -> None:
        request = ask(
            CREDIT_MODEL,
            3,
            STAGE,
            "Production",
            "Retrained with the 2025Q3 production quarter; holdout AUC is up.",
        )
        # A high-risk model needs a second officer; Oscar has not decided yet.
        sign(
            "olivia",
            request,
            "approved",
            "Evidence reviewed: same features, better AUC, production data labelled.",
        )

    step("wine v2 to Production, approved", wine_to_production)
    step("diabetes v1 as challenger, rejected", diabetes_challenger)
    step("credit v3 to Production, one of two approvals", credit_to_production)
    # Oscar trained v2 himself, so only Olivia may approve its promotion.
    step(
        "tumour v2 to Production, pending",
        lambda: ask(
            TUMOUR_MODEL,
            2,
            STAGE,
            "Production",
            "The validation rebuild with elastic-net matches v1 and is better calibrated.",
        ),
    )
    logger.info(
        "Demo governance story recorded %d steps, skipped %d",
        result.steps,
        len(result.skipped),
    )
    return result
