"""Create and revoke API tokens; each change is recorded on the ledger without the secret."""

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.utils import timezone

from governance import ledger
from governance.models import ApiToken
from governance.permissions import ADMIN, primary_role

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "mlg_"  # noqa: S105 - marks our tokens in secret scanners
# Characters of the secret kept in clear, to recognise a token in a leak report.
SHOWN_CHARACTERS = 12


class TokenAlreadyRevoked(Exception):
    """The token was revoked before; revoking is not repeated."""


class RefusedToken(Exception):
    """A presented token did not authenticate; ``why`` is recorded, never the secret."""

    def __init__(
        self, why: str, message: str = "Invalid or revoked token.", token: ApiToken | None = None
    ) -> None:
        super().__init__(message)
        self.why = why
        self.message = message
        self.token = token


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its secret, which exists only in this value and the response."""

    token: ApiToken
    secret: str


def digest(secret: str) -> str:
    """Return the SHA-256 hex digest under which a token secret is looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _acting_role(actor: AbstractBaseUser, owner: AbstractBaseUser) -> str:
    return ADMIN if actor.pk != owner.pk else primary_role(actor)


def create_api_token(owner: User, name: str, *, by: User) -> IssuedToken:
    """Issue a named token for ``owner``; the caller has checked that ``by`` may."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=owner,
            name=name,
            prefix=secret[:SHOWN_CHARACTERS],
            key_digest=digest(secret),
            created_at=timezone.now(),
            created_by=by,
        )
        ledger.append(
            ledger.EntryDraft(
                action="api_token.created",
                object_type="api_token",
                object_id=str(token.pk),
                precision="recorded",
                actor=by,
                actor_role=_acting_role(by, owner),
                after={"name": name, "owner": owner.get_username()},
            )
        )

    logger.info("Created API token %s for user %s by user %s", token.pk, owner.pk, by.pk)
    return IssuedToken(token, secret)


def revoke_api_token(token: ApiToken, *, by: User) -> ApiToken:
    """Revoke ``token`` for good; the caller has checked that ``by`` may."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
        if locked.revoked_at is not None:
            raise TokenAlreadyRevoked(f"API token {locked.pk} was already revoked")
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
        ledger.append(
            ledger.EntryDraft(
                action="api_token.revoked",
                object_type="api_token",
                object_id=str(locked.pk),
                precision="recorded",
                actor=by,
                actor_role=_acting_role(by, locked.user),
                before={"name": locked.name, "owner": locked.user.get_username()},
            )
        )

    logger.info("Revoked API token %s of user %s by user %s", locked.pk, locked.user_id, by.pk)
    return locked


def record_refused_token(path: str, token: ApiToken | None, why: str) -> None:
    """Record a refused API token as a security event, naming the token only if known."""
    details: dict[str, str] = {"why": why, "path": path[:256]}
    if token is not None:
        details["owner"] = token.user.get_username()
    with transaction.atomic():
        entry = ledger.append(
            ledger.EntryDraft(
                action="security.api_token_refused",
                object_type="api_token",
                object_id=str(token.pk) if token else "",
                precision="recorded",
                details=details,
            )
        )
    logger.warning(
        "API token refused (%s): ledger entry %s from %s", why, entry.seq, entry.client_address
    )
