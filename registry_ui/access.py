"""Which role may open which reviewer page, asked of ``governance.permissions``.

Pages declare the roles they serve with :func:`role_required`. Anonymous users are
sent to the login page; a signed-in user without one of the roles gets 403. The
roles themselves come from ``governance.permissions.roles_of``, the one rule the
pages and the API share; questions about one object (may this user request a
transition of this version?) go to that module's ``can_*`` functions directly.
"""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from governance import permissions

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)
View = Callable[Concatenate[HttpRequest, P], R]

DATA_SCIENTIST = permissions.DATA_SCIENTIST
GOVERNANCE_OFFICER = permissions.GOVERNANCE_OFFICER
EXECUTIVE = permissions.EXECUTIVE
ADMIN = permissions.ADMIN
ALL_ROLES = frozenset({DATA_SCIENTIST, GOVERNANCE_OFFICER, EXECUTIVE, ADMIN})
# Everyone with a role reads the mirror, the inventory and the reports.
READERS = ALL_ROLES


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """Return the roles ``user`` holds (none when anonymous or inactive)."""
    return permissions.roles_of(user)


def has_role(user: AbstractBaseUser | AnonymousUser, roles: Iterable[str]) -> bool:
    """Say whether ``user`` holds at least one of ``roles``."""
    return not user_roles(user).isdisjoint(roles)


def role_required(*roles: str) -> Callable[[View[P, R]], View[P, R]]:
    """Require a signed-in user holding one of ``roles``; others get 403."""
    unknown = set(roles) - ALL_ROLES
    if not roles or unknown:
        raise ValueError(f"role_required needs known roles, got {sorted(roles)}")

    def decorate(view: View[P, R]) -> View[P, R]:
        @wraps(view)
        def checked(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> R:
            if not has_role(request.user, roles):
                raise PermissionDenied("This page needs one of the roles: " + ", ".join(roles))
            return view(request, *args, **kwargs)

        return cast(View[P, R], login_required(checked))

    return decorate
