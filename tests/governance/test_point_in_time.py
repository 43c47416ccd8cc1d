"""Which version held a stage or an alias at a moment, told from a scripted history."""

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import transaction

from governance import ledger
from governance.point_in_time import (
    Holding,
    holder_at,
    holder_at_each,
    holders_at,
    holders_at_each,
)
from tests.support.personas import OLIVIA, OSCAR, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
MODEL = "churn <script>"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def observed(
    action: str,
    version: int,
    window: tuple[int | None, int],
    model: str = MODEL,
    **fields: Any,
) -> None:
    start, end = window
    with mock.patch("django.utils.timezone.now", return_value=at(end + 1)), transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action=action,
                object_type="model_version",
                precision="observed",
                source_name="default",
                model_name=model,
                version=version,
                window_start=None if start is None else at(start),
                window_end=at(end),
                **fields,
            )
        )


def applied(
    kind: str,
    version: int,
    target: str,
    minute: int,
    after: dict[str, Any],
    archived: tuple[int, ...] = (),
) -> None:
    details = {
        "archived_versions": list(archived),
        "target_kind": kind,
        "request_id": 40 + version,
        "approvers": ["Olivia Pope", "Oscar Martinez"],
        "requested_by": "Dana Scully",
    }
    with mock.patch("django.utils.timezone.now", return_value=at(minute)), transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action="request.applied",
                object_type="transition_request",
                object_id=str(40 + version),
                precision="exact",
                actor_role="system",
                source_name="default",
                model_name=MODEL,
                version=version,
                target=target,
                after=after,
                details=details,
            )
        )


@pytest.fixture
def history() -> None:
    """Script the champion alias and the stages of three versions."""
    observed("mlflow.version_registered", 1, (None, 0), after={"stage": "None"})
    observed("mlflow.alias_set", 1, (0, 10), target="champion", after={"version": 1})
    observed(
        "mlflow.stage_changed",
        1,
        (0, 10),
        target="Staging",
        before={"stage": "None"},
        after={"stage": "Staging"},
    )
    applied("alias", 2, "champion", 30, {"version": 2})
    applied("stage", 1, "Production", 30, {"stage": "Production"})
    # The next sync sees the applied alias move too; it is the same change.
    observed(
        "mlflow.alias_moved",
        2,
        (20, 40),
        target="champion",
        before={"version": 1},
        after={"version": 2},
    )
    observed(
        "mlflow.alias_moved",
        3,
        (60, 70),
        target="champion",
        before={"version": 2},
        after={"version": 3},
    )
    observed(
        "mlflow.stage_changed",
        2,
        (60, 70),
        target="Production",
        before={"stage": "None"},
        after={"stage": "Production"},
    )
    applied("stage", 2, "Production", 80, {"stage": "Production"})
    observed("mlflow.alias_removed", 3, (90, 100), target="champion", before={"version": 3})


def champion(minute: int) -> Holding | None:
    return holder_at("default", MODEL, "alias", "champion", at(minute))


def production(minute: int) -> Holding | None:
    return holder_at("default", MODEL, "stage", "Production", at(minute))


@pytest.mark.usefixtures("history")
def test_it_finds_no_holder_before_the_first_change() -> None:
    assert champion(-1) is None
    assert production(-1) is None


@pytest.mark.usefixtures("history")
def test_it_answers_with_the_observation_window_of_a_synced_change() -> None:
    holding = champion(15)

    assert holding is not None
    assert (holding.version, holding.precision, holding.uncertain) == (1, "observed", False)
    assert holding.precision_text == (
        "observed between 2026-06-01T10:00:00+00:00 and 2026-06-01T10:10:00+00:00"
    )
    assert holding.action == "mlflow.alias_set"


@pytest.mark.usefixtures("history")
def test_it_answers_exactly_for_a_change_this_system_applied() -> None:
    holding = champion(45)

    assert holding is not None
    assert (holding.version, holding.precision, holding.precision_text) == (2, "exact", "exact")
    assert holding.established_at == at(30)
    assert holding.request_id == 42
    assert holding.requested_by == "Dana Scully"
    assert holding.approved_by == ("Olivia Pope", "Oscar Martinez")
    assert holding.action == "request.applied"


@pytest.mark.usefixtures("history")
def test_it_treats_the_sync_seeing_an_applied_change_as_the_same_change() -> None:
    holding = champion(25)

    at_the_apply = champion(30)

    assert holding is not None
    assert (holding.version, holding.uncertain) == (1, False)
    assert at_the_apply is not None
    assert (at_the_apply.version, at_the_apply.precision) == (2, "exact")


@pytest.mark.usefixtures("history")
def test_it_says_the_answer_is_uncertain_inside_an_observation_window() -> None:
    moving = champion(65)
    setting = champion(5)
    removing = champion(95)

    assert moving is not None and setting is not None and removing is not None
    assert (moving.version, moving.uncertain, moving.candidates) == (2, True, (2, 3))
    assert moving.precision_text == (
        "uncertain: changed observed between 2026-06-01T11:00:00+00:00 "
        "and 2026-06-01T11:10:00+00:00"
    )
    assert (setting.version, setting.candidates) == (None, (None, 1))
    assert (removing.version, removing.candidates) == (3, (3, None))


@pytest.mark.usefixtures("history")
def test_it_follows_the_alias_until_it_is_removed() -> None:
    holding = champion(80)

    assert holding is not None
    assert (holding.version, holding.uncertain) == (3, False)
    assert champion(120) is None


@pytest.mark.usefixtures("history")
def test_it_follows_stages_including_two_versions_in_one_stage() -> None:
    staging = holder_at("default", MODEL, "stage", "Staging", at(15))
    exact = production(45)
    doubled = production(75)
    archived = production(85)

    assert staging is not None and staging.version == 1
    assert holder_at("default", MODEL, "stage", "Staging", at(45)) is None
    assert exact is not None and (exact.version, exact.precision) == (1, "exact")
    assert doubled is not None and (doubled.version, doubled.also_holding) == (2, (1,))
    assert archived is not None
    assert (archived.version, archived.also_holding, archived.precision) == (2, (), "exact")
    assert production(20) is None


@pytest.mark.usefixtures("history")
def test_it_lists_every_holder_of_a_model() -> None:
    holdings = holders_at("default", MODEL, at(45))

    assert [(h.target_kind, h.target, h.version) for h in holdings] == [
        ("stage", "Production", 1),
        ("alias", "champion", 2),
    ]


@pytest.mark.usefixtures("history")
def test_it_answers_for_many_models_from_two_reads_of_the_ledger(
    django_assert_num_queries: Any,
) -> None:
    # One read for the moves of every model, one for the reasons behind the holders.
    observed("mlflow.alias_set", 7, (0, 10), "other", target="champion", after={"version": 7})
    models = [("default", MODEL), ("default", "other"), ("default", "never synced")]

    with django_assert_num_queries(2):
        every_holder = holders_at_each(models, at(45))
    with django_assert_num_queries(2):
        champions = holder_at_each(models, "alias", "champion", at(45))

    assert every_holder == {model: holders_at(*model, at(45)) for model in models}
    assert champions == {model: holder_at(*model, "alias", "champion", at(45)) for model in models}
    assert [h.version for h in every_holder[("default", "other")]] == [7]
    assert champions[("default", "never synced")] is None


def test_it_keeps_an_observation_whose_window_began_after_the_apply() -> None:
    applied("alias", 2, "champion", 30, {"version": 2})
    observed("mlflow.alias_set", 2, (20, 30), target="champion", after={"version": 2})
    observed("mlflow.alias_set", 2, (40, 50), target="champion", after={"version": 2})

    holding = champion(55)

    # The first observation ends at the apply, so it is the apply seen by the sync;
    # the second starts after it, so it is a change of its own and settles the answer.
    assert holding is not None
    assert (holding.version, holding.action, holding.precision) == (
        2,
        "mlflow.alias_set",
        "observed",
    )
    assert holding.window_start == at(40)


def test_it_drops_the_alias_of_a_deleted_version() -> None:
    observed("mlflow.alias_set", 5, (0, 10), target="challenger", after={"version": 5})
    observed("mlflow.version_deleted", 5, (20, 30), before={"stage": "None"})

    assert holder_at("default", MODEL, "alias", "challenger", at(15)) is not None
    assert holder_at("default", MODEL, "alias", "challenger", at(40)) is None


def test_it_knows_when_an_applied_promotion_archived_the_incumbent() -> None:
    observed("mlflow.version_registered", 1, (None, 0), after={"stage": "Production"})
    applied("stage", 2, "Production", 30, {"stage": "Production"}, archived=(1,))
    observed(
        "mlflow.stage_changed",
        1,
        (20, 40),
        target="Archived",
        before={"stage": "Production"},
        after={"stage": "Archived"},
    )

    before = production(25)
    after = production(35)

    assert before is not None and (before.version, before.uncertain) == (1, False)
    assert after is not None and (after.version, after.also_holding) == (2, ())


def test_it_rejects_an_unknown_target_kind() -> None:
    with pytest.raises(ValueError, match="target_kind must be 'stage' or 'alias', not 'tag'"):
        holder_at("default", MODEL, "tag", "x", T0)


def request_entry(
    action: str, request_id: int, reason: str, actor: Any = None, model: str = MODEL
) -> None:
    with transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action=action,
                object_type="transition_request",
                object_id=str(request_id),
                precision="recorded",
                actor=actor,
                actor_role="governance_officer" if actor else "",
                source_name="default",
                model_name=model,
                reason=reason,
            )
        )


@pytest.mark.usefixtures("fast_password_hasher")
def test_a_holder_set_by_a_request_says_why_it_was_asked_for_and_approved(
    history: None,
) -> None:
    olivia, oscar = make_user(OLIVIA), make_user(OSCAR)
    # Request 42 moved version 2 to Production at minute 80 (see ``applied``).
    request_entry("request.created", 42, "Recall up by 4 points")
    request_entry("decision.approved", 42, "Validated on the 2026 holdout", olivia)
    request_entry("decision.approved", 42, "Challenger review passed", oscar)
    # Another model's request 42, and entries that are not approvals, change nothing.
    request_entry("request.created", 42, "Not this model", model="fraud")
    request_entry("decision.approved", 42, "Not this model", olivia, model="fraud")
    request_entry("request.cancelled", 42, "Not a rationale")

    holding = holder_at("default", MODEL, "stage", "Production", at(85))
    [same] = [h for h in holders_at("default", MODEL, at(85)) if h.target == "Production"]
    each = holder_at_each([("default", MODEL), ("default", "fraud")], "stage", "Production", at(85))
    across = holders_at_each([("default", MODEL)], at(85))[("default", MODEL)]

    assert holding is not None
    assert (holding.version, holding.request_id) == (2, 42)
    assert holding.request_reason == "Recall up by 4 points"
    assert [(a.signer, a.reason) for a in holding.approvals] == [
        ("Olivia Pope", "Validated on the 2026 holdout"),
        ("Oscar Martinez", "Challenger review passed"),
    ]
    assert same == holding == each[("default", MODEL)]
    assert each[("default", "fraud")] is None
    assert holding in across


def test_an_observed_holder_has_no_request_and_no_reasons(history: None) -> None:
    request_entry("request.created", 42, "Recall up by 4 points")

    holding = holder_at("default", MODEL, "stage", "Production", at(65))

    assert holding is not None and holding.uncertain
    settled = holder_at("default", MODEL, "alias", "champion", at(75))
    assert settled is not None and settled.version == 3
    assert (settled.request_id, settled.request_reason, settled.approvals) == (None, "", ())
