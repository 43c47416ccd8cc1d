"""DRF permission classes: thin adapters over :mod:`governance.permissions`.

The API asks the same questions as the pages, through the same module; this file only
turns a refusal into DRF's 403 with the reason as its message.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from governance.api.errors import sentence
from governance.models import ApiToken
from governance.permissions import (
    ADMIN,
    EXECUTIVE,
    GOVERNANCE_OFFICER,
    Verdict,
    can_view,
    has_role,
)


class HasGovernanceRole(BasePermission):
    """Signed-in users holding at least one governance role; others get 403."""

    message = "You hold no governance role."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            # Unauthenticated callers fall through to DRF's 401, once counted.
            _count_refused_call(request, view)
            return False
        verdict = can_view(request.user)
        self.message = sentence(verdict.reason)
        if not verdict.allowed:
            _count_refused_call(request, view)
        return verdict.allowed


class IsAuditor(HasGovernanceRole):
    """Officers, executives and admins: the roles the pages' audit export serves."""

    AUDIT_ROLES = (GOVERNANCE_OFFICER, EXECUTIVE, ADMIN)

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not super().has_permission(request, view):
            return False
        if any(has_role(request.user, role) for role in self.AUDIT_ROLES):
            return True
        self.message = "Only governance officers, executives and admins audit the ledger."
        _count_refused_call(request, view)
        return False


def _count_refused_call(request: Request, view: APIView) -> None:
    # DRF checks throttles only after permissions, so refused callers would never be
    # throttled; they are counted here against the same rates, and get 429 when over.
    for throttle in view.get_throttles():
        if not throttle.allow_request(request, view):
            view.throttled(request, throttle.wait() or 1.0)


def can_manage_token_of(user: AbstractBaseUser | AnonymousUser, owner: AbstractBaseUser) -> Verdict:
    """May ``user`` create or revoke API tokens of ``owner``? Their own, or as an admin."""
    if not can_view(user):
        return Verdict(False, "you hold no governance role")
    if user.pk == owner.pk:
        return Verdict(True, "allowed")
    if has_role(user, ADMIN):
        return Verdict(True, "allowed", ADMIN)
    return Verdict(False, "only an admin can manage another user's API tokens")


def authenticated_by_token(request: Request) -> bool:
    return isinstance(request.auth, ApiToken)


def message_of(verdict: Verdict) -> str:
    """Return a verdict's reason as a sentence for an error message."""
    return sentence(verdict.reason)
