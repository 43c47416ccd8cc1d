"""Grant and revoke governance roles, recording every change on the ledger."""

import logging
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from governance import ledger
from governance.permissions import ROLES, can_manage_roles, forget_roles, refuse, roles_of

logger = logging.getLogger(__name__)

# The ledger role of an operator acting through a management command without --by.
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Operator:
    """An operator at the command line who named no admin account: the system actor."""

    os_user: str


def record_user_change(
    action: str,
    subject: User,
    *,
    actor: User | None,
    target: str,
    before: list[str],
    after: list[str],
    reason: str,
    details: dict[str, str],
) -> None:
    """Append the entry of a change to what ``subject`` may do: a role or an MLflow name.

    ``actor`` is the admin who made it; ``None`` is an operator at the shell.
    """
    ledger.append(
        ledger.EntryDraft(
            action=action,
            object_type="user",
            object_id=str(subject.pk),
            precision="recorded",
            actor=actor,
            actor_role="admin" if actor else SYSTEM_ROLE,
            target=target,
            before=before,
            after=after,
            reason=reason,
            details=details,
        )
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")


def _current_roles(user: User) -> list[str]:
    return sorted(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def _change_role(
    subject: User, role: str, by: User | Operator, reason: str, *, grant: bool
) -> bool:
    _check_role(role)
    action = "role.granted" if grant else "role.revoked"
    if isinstance(by, User):
        verdict = can_manage_roles(by, subject)
        if not verdict.allowed:
            refuse(by, action, verdict, object_type="user", object_id=str(subject.pk), target=role)

    with transaction.atomic():
        # Lock the subject so concurrent changes compute before/after from one state.
        User.objects.select_for_update().filter(pk=subject.pk).first()
        before = _current_roles(subject)
        if (role in before) == grant:
            return False
        group = Group.objects.get_or_create(name=role)[0]
        if grant:
            subject.groups.add(group)
        else:
            subject.groups.remove(group)
        after = _current_roles(subject)
        actor = by if isinstance(by, User) else None
        details = {"subject_username": subject.get_username(), "role": role}
        if isinstance(by, Operator):
            details["os_user"] = by.os_user
        record_user_change(
            action,
            subject,
            actor=actor,
            target=role,
            before=before,
            after=after,
            reason=reason,
            details=details,
        )

    forget_roles(subject)
    logger.info(
        "%s role %s for user %s by %s",
        "Granted" if grant else "Revoked",
        role,
        subject.pk,
        by.get_username() if isinstance(by, User) else f"operator {by.os_user}",
    )
    return True


def grant_role(subject: User, role: str, *, by: User | Operator, reason: str = "") -> bool:
    """Give ``subject`` the ``role``; return False when they already held it."""
    return _change_role(subject, role, by, reason, grant=True)


def revoke_role(subject: User, role: str, *, by: User | Operator, reason: str = "") -> bool:
    """Take ``role`` from ``subject``; return False when they did not hold it."""
    return _change_role(subject, role, by, reason, grant=False)


__all__ = ["SYSTEM_ROLE", "Operator", "grant_role", "revoke_role", "roles_of"]
