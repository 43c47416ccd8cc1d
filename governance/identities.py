"""Link the names MLflow records as run authors to users, recording each change.

Separation of duties recognises a run's author by the officer's username or e-mail
(see ``permissions.is_run_author``); any other name MLflow may record for them, an
OS account or a notebook login, is linked here by an admin.
"""

import logging

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.models import MlflowIdentity
from governance.permissions import can_link_mlflow_names, forget_mlflow_names, refuse
from governance.roles import record_user_change

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 250


class IdentityError(ValueError):
    """The name cannot be linked or unlinked; the message says why."""


def _names_of(user: User) -> list[str]:
    return sorted(MlflowIdentity.objects.filter(user=user).values_list("name", flat=True))


def _record(
    action: str, subject: User, by: User, name: str, before: list[str], reason: str
) -> None:
    record_user_change(
        action,
        subject,
        actor=by,
        target=name,
        before=before,
        after=_names_of(subject),
        reason=reason,
        details={"subject_username": subject.get_username(), "mlflow_name": name},
    )


def link_mlflow_name(subject: User, name: str, *, by: User, reason: str) -> MlflowIdentity:
    """Record that MLflow name ``name`` belongs to ``subject``."""
    name, reason = name.strip(), reason.strip()
    verdict = can_link_mlflow_names(by, subject)
    if not verdict.allowed:
        refuse(by, "identity.linked", verdict, object_type="user", object_id=str(subject.pk))
    if not name or len(name) > MAX_NAME_LENGTH:
        raise IdentityError(f"an MLflow name has 1 to {MAX_NAME_LENGTH} characters")
    if not reason:
        raise IdentityError("a reason is required")

    try:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=subject.pk).first()
            before = _names_of(subject)
            identity = MlflowIdentity.objects.create(
                user=subject, name=name, linked_at=timezone.now(), linked_by=by
            )
            _record("identity.linked", subject, by, name, before, reason)
    except IntegrityError as exc:
        owner = MlflowIdentity.objects.filter(name__iexact=name).select_related("user").first()
        holder = owner.user.get_username() if owner else "another user"
        raise IdentityError(f"the MLflow name {name!r} is already linked to {holder}") from exc
    forget_mlflow_names(subject)
    logger.info("Linked MLflow name %r to user %s by user %s", name, subject.pk, by.pk)
    return identity


def unlink_mlflow_name(identity: MlflowIdentity, *, by: User, reason: str) -> None:
    """Record that ``identity``'s name no longer belongs to its user."""
    subject = identity.user
    verdict = can_link_mlflow_names(by, subject)
    if not verdict.allowed:
        refuse(by, "identity.unlinked", verdict, object_type="user", object_id=str(subject.pk))
    reason = reason.strip()
    if not reason:
        raise IdentityError("a reason is required")

    with transaction.atomic():
        User.objects.select_for_update().filter(pk=subject.pk).first()
        before = _names_of(subject)
        identity.delete()
        _record("identity.unlinked", subject, by, identity.name, before, reason)
    forget_mlflow_names(subject)
    logger.info("Unlinked MLflow name %r from user %s by user %s", identity.name, subject.pk, by.pk)
