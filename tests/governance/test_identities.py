"""MLflow names linked to users: separation of duties recognises them as run authors."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import identities, permissions, workflow
from governance.models import Decision, LedgerEntry, MlflowIdentity, TransitionRequest
from tests.support.mirror_rows import make_source, make_version
from tests.support.personas import ALL, PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

LAPTOP = "osc-laptop-7"


@pytest.fixture
def users() -> dict[str, User]:
    return {persona.username: make_user(persona) for persona in ALL}


@pytest.fixture
def request_(users: dict[str, User]) -> TransitionRequest:
    """Dana asks to promote a version whose run MLflow says ``OSC-LAPTOP-7`` logged."""
    version = make_version(make_source(), "churn", 3, run_author=LAPTOP.upper())
    return workflow.request_transition(users["dana"], version, "stage", "Production", "lift")


def _link(users: dict[str, User], name: str = LAPTOP) -> MlflowIdentity:
    return identities.link_mlflow_name(
        users["oscar"], name, by=users["adam"], reason="Oscar's laptop account"
    )


def test_an_admin_links_a_name_and_the_ledger_records_it(users: dict[str, User]) -> None:
    identity = _link(users)

    assert (identity.user, identity.name, identity.linked_by) == (
        users["oscar"],
        LAPTOP,
        users["adam"],
    )
    entry = LedgerEntry.objects.get(action="identity.linked")
    assert (entry.actor, entry.actor_role, entry.object_id, entry.target) == (
        users["adam"],
        "admin",
        str(users["oscar"].pk),
        LAPTOP,
    )
    assert (entry.before, entry.after, entry.reason) == ([], [LAPTOP], "Oscar's laptop account")


def test_a_linked_name_makes_the_officer_the_run_author(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    oscar = users["oscar"]
    assert permissions.can_decide(oscar, request_)

    _link(users)

    assert not permissions.can_decide(oscar, request_)
    with pytest.raises(PermissionDenied, match="author of the training run cannot approve"):
        workflow.decide(oscar, request_.pk, "approved", "mine", PASSWORD)
    assert not Decision.objects.exists()
    decision = workflow.decide(users["olivia"], request_.pk, "approved", "checked", PASSWORD)
    assert decision.run_author_user == oscar


def test_the_database_refuses_the_linked_author_approving_production(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    oscar = users["oscar"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            request=request_,
            officer=oscar,
            requester=request_.requested_by,
            officer_username="oscar",
            run_author=request_.run_author,
            run_author_user=oscar,
            target="Production",
            acting_role="governance_officer",
            meaning="approved",
            rationale="x",
            signer_name="x",
            signed_at=timezone.now(),
            binding_hash="0" * 64,
        )


def test_a_name_belongs_to_one_user_whatever_its_case(users: dict[str, User]) -> None:
    _link(users)
    before = LedgerEntry.objects.count()

    with pytest.raises(identities.IdentityError, match="already linked to oscar"):
        identities.link_mlflow_name(
            users["derek"], LAPTOP.upper(), by=users["adam"], reason="mistake"
        )

    assert LedgerEntry.objects.count() == before
    assert list(MlflowIdentity.objects.values_list("user__username", flat=True)) == ["oscar"]


@pytest.mark.parametrize(
    ("actor", "subject", "why"),
    [
        ("adam", "adam", "nobody can change which MLflow names are theirs"),
        ("olivia", "oscar", "only an admin can link or unlink MLflow names"),
        ("dana", "dana", "only an admin can link or unlink MLflow names"),
    ],
    ids=["self", "officer", "data-scientist"],
)
def test_only_admins_link_and_never_their_own_names(
    users: dict[str, User], actor: str, subject: str, why: str
) -> None:
    with pytest.raises(PermissionDenied, match=why):
        identities.link_mlflow_name(users[subject], "x", by=users[actor], reason="r")

    assert not MlflowIdentity.objects.exists()
    refusal = LedgerEntry.objects.get(action="security.action_refused")
    assert (refusal.actor, refusal.details) == (users[actor], {"attempted": "identity.linked"})


def test_unlinking_needs_an_admin_other_than_the_owner_and_a_reason(
    users: dict[str, User], request_: TransitionRequest
) -> None:
    identity = _link(users)
    users["oscar"].groups.add(*users["adam"].groups.all())  # Oscar is an admin too now.

    with pytest.raises(PermissionDenied, match="nobody can change which MLflow names"):
        identities.unlink_mlflow_name(identity, by=users["oscar"], reason="not mine")
    with pytest.raises(identities.IdentityError, match="a reason is required"):
        identities.unlink_mlflow_name(identity, by=users["adam"], reason="  ")
    identities.unlink_mlflow_name(identity, by=users["adam"], reason="laptop returned")

    assert not MlflowIdentity.objects.exists()
    entry = LedgerEntry.objects.get(action="identity.unlinked")
    assert (entry.before, entry.after, entry.reason) == ([LAPTOP], [], "laptop returned")
    permissions.forget_roles(users["oscar"])
    assert permissions.can_decide(User.objects.get(pk=users["oscar"].pk), request_)


@pytest.mark.parametrize("name", ["", "   ", "x" * 251])
def test_it_refuses_a_blank_or_overlong_name(users: dict[str, User], name: str) -> None:
    with pytest.raises(identities.IdentityError, match="1 to 250 characters"):
        identities.link_mlflow_name(users["oscar"], name, by=users["adam"], reason="r")

    assert not LedgerEntry.objects.filter(action="identity.linked").exists()


def test_the_command_links_and_unlinks_on_behalf_of_an_admin(users: dict[str, User]) -> None:
    out = StringIO()
    reason = ("--by", "adam", "--reason", "build box")

    call_command("mlflow_name", "link", "oscar", LAPTOP, *reason, stdout=out)
    linked = list(MlflowIdentity.objects.values_list("user__username", "name"))
    call_command("mlflow_name", "unlink", "oscar", LAPTOP.upper(), *reason, stdout=out)

    assert linked == [("oscar", LAPTOP)]
    assert out.getvalue() == f"linked {LAPTOP!r} to oscar\nunlinked {LAPTOP!r} from oscar\n"
    assert not MlflowIdentity.objects.exists()
    assert list(LedgerEntry.objects.values_list("action", "actor__username")) == [
        ("identity.linked", "adam"),
        ("identity.unlinked", "adam"),
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("link", "oscar", "x", "--by", "olivia"), "refused: only an admin can link"),
        (("link", "adam", "x", "--by", "adam"), "refused: nobody can change which"),
        (("link", "oscar", " ", "--by", "adam"), "1 to 250 characters"),
        (("unlink", "oscar", "never-linked", "--by", "adam"), "is not linked to oscar"),
        (("link", "ghost", "x", "--by", "adam"), "no user named 'ghost'"),
    ],
    ids=["not-admin", "own-name", "blank-name", "not-linked", "unknown-user"],
)
def test_the_command_refuses_with_a_clear_message(
    users: dict[str, User], arguments: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("mlflow_name", *arguments, "--reason", "r")

    assert not MlflowIdentity.objects.exists()
