"""Answer "may this user do X to Y" for pages, the API and the services alike.

Roles are Django groups named in :data:`ROLES`. Only group membership confers a role:
``is_superuser`` and ``is_staff`` grant nothing here, so a Django superuser cannot
slip past the separation of duties. Inactive and anonymous users may do nothing.

"Acting as admin" means deciding by virtue of the ``admin`` role. A decision is
always taken in the ``governance_officer`` role, which is what the service records
as ``Decision.acting_role``; a user who holds only ``admin`` therefore cannot decide,
while a user who also holds ``governance_officer`` decides as an officer. Since
nobody can grant themselves a role, an admin becomes an officer only when another
admin makes them one, and that grant is on the ledger.

What each role may do is fixed here, in code, rather than held as Django permissions
editable in the admin site: the separation of duties must not be loosened by editing
a group. Pages and the API ask the ``can_*`` functions and show ``Verdict.reason``;
services call them too, and record a refusal with :func:`refuse`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.db import transaction

from governance import ledger
from governance.models import MlflowIdentity, ModelVersion, RegisteredModel, TransitionRequest
from governance.models.workflow import PRODUCTION_STAGE

DATA_SCIENTIST = "data_scientist"
GOVERNANCE_OFFICER = "governance_officer"
EXECUTIVE = "executive"
ADMIN = "admin"
ROLES = (DATA_SCIENTIST, GOVERNANCE_OFFICER, EXECUTIVE, ADMIN)

# The role a decision is taken in; recorded as ``Decision.acting_role``.
DECIDING_ROLE = GOVERNANCE_OFFICER
# The ledger action of every refusal this module records.
REFUSED = "security.action_refused"
STAGES = ("Staging", PRODUCTION_STAGE, "Archived")

AnyUser = AbstractBaseUser | AnonymousUser
_CACHE_KEY = "_governance_roles"
_NAMES_CACHE_KEY = "_governance_mlflow_names"


@dataclass(frozen=True)
class Verdict:
    """The answer to one permission question, with the reason a person can read."""

    allowed: bool
    reason: str
    # The role the action is taken in when allowed (recorded on the ledger).
    role: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def _allow(role: str, reason: str = "allowed") -> Verdict:
    return Verdict(True, reason, role)


def _deny(reason: str) -> Verdict:
    return Verdict(False, reason)


def roles_of(user: AnyUser | None) -> frozenset[str]:
    """Return the governance roles ``user`` holds; none for anonymous or inactive users."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    # Cached on the instance for the request; forget_roles() drops it after changes.
    cache = vars(user)
    cached: frozenset[str] | None = cache.get(_CACHE_KEY)
    if cached is None:
        names = Group.objects.filter(user__pk=user.pk, name__in=ROLES).values_list(
            "name", flat=True
        )
        cached = cache[_CACHE_KEY] = frozenset(names)
    return cached


def forget_roles(user: AnyUser) -> None:
    """Drop the roles cached on ``user`` after its groups changed."""
    vars(user).pop(_CACHE_KEY, None)


def has_role(user: AnyUser | None, role: str) -> bool:
    return role in roles_of(user)


def primary_role(user: AnyUser | None, preferred: Iterable[str] = ROLES) -> str:
    """Return the first of ``preferred`` that ``user`` holds, for ledger entries."""
    held = roles_of(user)
    return next((role for role in preferred if role in held), "")


def _username(user: AnyUser) -> str:
    return str(user.get_username())


def is_run_author(user: AnyUser, run_author: str) -> bool:
    """Does MLflow's name for a run's author (``mlflow.user``) name ``user``?

    MLflow keeps whatever name the client had, an account name or an e-mail address,
    in any case; matching either, without regard to case, errs towards refusing.
    Other names (an OS account, a notebook login) count once an admin has linked
    them to the user as an :class:`~governance.models.MlflowIdentity`.
    """
    author = run_author.strip().casefold()
    return bool(author) and author in _author_names(user)


def _author_names(user: AnyUser) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    # Cached on the instance like the roles, so an inbox of many requests asks once;
    # forget_mlflow_names() drops it after a link or unlink.
    cache = vars(user)
    cached: frozenset[str] | None = cache.get(_NAMES_CACHE_KEY)
    if cached is None:
        linked = MlflowIdentity.objects.filter(user__pk=user.pk).values_list("name", flat=True)
        email = str(getattr(user, "email", "") or "").strip()
        names = [_username(user), *([email] if email else []), *linked]
        cached = cache[_NAMES_CACHE_KEY] = frozenset(name.casefold() for name in names)
    return cached


def forget_mlflow_names(user: AnyUser) -> None:
    """Drop the run-author names cached on ``user`` after a link or unlink."""
    vars(user).pop(_NAMES_CACHE_KEY, None)


def run_author_owner(run_author: str) -> int | None:
    """Return the id of the user an admin linked MLflow name ``run_author`` to, if any."""
    name = run_author.strip()
    if not name:
        return None
    owner: int | None = (
        MlflowIdentity.objects.filter(name__iexact=name).values_list("user_id", flat=True).first()
    )
    return owner


def can_view(user: AnyUser | None) -> Verdict:
    """Any role may read models, requests, decisions and the ledger."""
    held = roles_of(user)
    if not held:
        return _deny("you hold no governance role")
    return _allow(primary_role(user))


def can_request(user: AnyUser | None, version: ModelVersion) -> Verdict:
    """May ``user`` ask for a stage or alias change of ``version``?"""
    if not has_role(user, DATA_SCIENTIST):
        return _deny("only a data scientist can request a transition")
    if version.deleted_observed_at is not None:
        return _deny(f"{version} no longer exists in MLflow")
    return _allow(DATA_SCIENTIST)


def can_cancel(user: AnyUser | None, request: TransitionRequest) -> Verdict:
    """May ``user`` cancel ``request``? Only its requester, while it is pending."""
    if user is None or not roles_of(user):
        return _deny("you hold no governance role")
    if request.requested_by_id != user.pk:
        return _deny("only the requester can cancel a request")
    if request.status != TransitionRequest.Status.PENDING:
        return _deny(f"request {request.pk} is {request.status}, not pending")
    return _allow(primary_role(user, (DATA_SCIENTIST, *ROLES)))


def can_decide(user: AnyUser | None, request: TransitionRequest) -> Verdict:
    """May ``user`` approve or reject ``request``? Checks every separation-of-duties rule."""
    if user is None or not has_role(user, GOVERNANCE_OFFICER):
        if has_role(user, ADMIN):
            return _deny("an admin cannot decide requests; administrators manage access only")
        return _deny("only a governance officer can decide a request")
    if request.requested_by_id == user.pk:
        return _deny("the requester cannot decide their own request")
    if (
        request.target_kind == TransitionRequest.TargetKind.STAGE
        and request.target == PRODUCTION_STAGE
        and is_run_author(user, request.run_author)
    ):
        return _deny("the author of the training run cannot approve its promotion to Production")
    if request.status != TransitionRequest.Status.PENDING:
        return _deny(f"request {request.pk} is {request.status}, not pending")
    # all() reads the decisions an inbox prefetched rather than asking once per row.
    if any(decision.officer_id == user.pk for decision in request.decisions.all()):
        return _deny(f"you have already signed request {request.pk}; an officer counts once")
    return _allow(DECIDING_ROLE)


def can_set_risk_tier(user: AnyUser | None, model: RegisteredModel) -> Verdict:
    """May ``user`` set the risk tier of ``model``? Governance officers only."""
    if not has_role(user, GOVERNANCE_OFFICER):
        return _deny("only a governance officer can set a model's risk tier")
    return _allow(GOVERNANCE_OFFICER)


def can_record_correction(user: AnyUser | None) -> Verdict:
    """May ``user`` record a correction of a ledger entry? Governance officers only.

    The record is what officers answer for; admins manage access and do not rewrite
    the account of what happened, even by appending to it.
    """
    if user is not None and user.is_authenticated and not user.is_active:
        return _deny(f"the account {_username(user)!r} is inactive")
    if not has_role(user, GOVERNANCE_OFFICER):
        return _deny("only a governance officer can record a correction")
    return _allow(GOVERNANCE_OFFICER)


def can_link_mlflow_names(user: AnyUser | None, subject: AnyUser) -> Verdict:
    """May ``user`` link or unlink MLflow names of ``subject``? Admins, never their own.

    Unlinking one's own name would let an officer approve their own run.
    """
    if not has_role(user, ADMIN):
        return _deny("only an admin can link or unlink MLflow names")
    if user is not None and user.pk == subject.pk:
        return _deny("nobody can change which MLflow names are theirs")
    return _allow(ADMIN)


def can_manage_roles(user: AnyUser | None, subject: AnyUser) -> Verdict:
    """May ``user`` grant or revoke roles of ``subject``? Admins, never for themselves."""
    if not has_role(user, ADMIN):
        return _deny("only an admin can grant or revoke roles")
    if user is not None and user.pk == subject.pk:
        return _deny("nobody can change their own roles")
    return _allow(ADMIN)


def valid_targets(target_kind: str) -> tuple[str, ...]:
    """Return the stages or the configured governed aliases a request may target."""
    if target_kind == TransitionRequest.TargetKind.STAGE:
        return STAGES
    if target_kind == TransitionRequest.TargetKind.ALIAS:
        return tuple(settings.GOVERNED_ALIASES)
    return ()


def require(verdict: Verdict) -> Verdict:
    """Return ``verdict`` when allowed, else raise ``PermissionDenied`` with its reason."""
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    return verdict


def refuse(
    user: AnyUser | None,
    attempted: str,
    verdict: Verdict,
    *,
    object_type: str,
    object_id: str = "",
    model_name: str = "",
    version: int | None = None,
    target: str = "",
) -> NoReturn:
    """Record a refused action on the ledger, then raise ``PermissionDenied``.

    The entry commits in its own transaction, so call this outside the transaction
    of the refused change: nothing of that change is kept, only the security event.
    """
    with transaction.atomic():
        ledger.append(
            ledger.EntryDraft(
                action=REFUSED,
                object_type=object_type,
                object_id=object_id,
                precision="recorded",
                actor=user,
                actor_role=primary_role(user),
                model_name=model_name,
                version=version,
                target=target,
                reason=verdict.reason,
                details={"attempted": attempted},
            )
        )
    raise PermissionDenied(verdict.reason)
